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
  // "Add to cart" on a product card stays on the page: the form is posted in the background,
  // the cart's count and a status message update (without the script, the post comes back here).
  var status = document.getElementById("messages");
  document.querySelectorAll("form[data-stay-on-page]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) return;
      event.preventDefault();
      var button = form.querySelector("button");
      if (button.getAttribute("aria-disabled") === "true") return;
      button.setAttribute("aria-disabled", "true");
      fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                          headers: {"Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (status) {
            var note = document.createElement("p");
            note.className = "message " + (data.error ? "message-error" : "message-success");
            note.textContent = data.message || data.error || "";
            status.replaceChildren(note);
          }
          if (data.cart_count !== undefined) {
            var link = document.querySelector(".cart-link");
            if (link) link.innerHTML = "Cart <span class=\"badge\"><span class=\"visually-hidden\">(</span>" +
              data.cart_count + "<span class=\"visually-hidden\"> item" + (data.cart_count === 1 ? "" : "s") +
              ")</span></span>";
          }
        })
        .catch(function () { form.submit(); })
        .then(function () { button.removeAttribute("aria-disabled"); });
    });
  });
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
