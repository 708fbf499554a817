/* Corner Shop's only script; every page works without it.
   Sort and filter forms marked data-autosubmit apply a choice at once (their Apply button is
   for browsers without JavaScript), and focus returns to the control after the page reloads. */
(function () {
  "use strict";
  var KEY = "corner-shop:refocus";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    var apply = form.querySelector("[data-apply]");
    var hint = form.querySelector(".hint");
    if (apply) apply.hidden = true;
    if (hint) {
      hint.hidden = false;
      form.querySelectorAll("select").forEach(function (select) { select.setAttribute("aria-describedby", hint.id); });
    }
    form.addEventListener("change", function (event) {
      if (event.target.id) {
        try { sessionStorage.setItem(KEY, event.target.id); } catch (e) { /* private mode */ }
      }
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    });
  });
  var refocus = null;
  try { refocus = sessionStorage.getItem(KEY); sessionStorage.removeItem(KEY); } catch (e) { /* private mode */ }
  if (refocus) {
    var control = document.getElementById(refocus);
    if (control) control.focus();
  }
  // The phone menu closes on Escape, and when a click lands outside it.
  document.querySelectorAll("details.account-menu").forEach(function (menu) {
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });
})();
