"""Product pictures drawn by the shop itself: an SVG per product (its category's glyph on a
colour of that category, varied per product), so a fresh checkout has images and no CDN."""

from __future__ import annotations

from django.utils.html import escape

# Each glyph is drawn in white on a 160 x 120 canvas, centred near (80, 52).
GLYPHS: dict[str, str] = {
    "Books": '<rect x="52" y="24" width="52" height="58" rx="4"/><rect x="60" y="24" width="4" height="58" '
             'fill-opacity=".35" fill="#000"/>'
             '<rect x="70" y="36" width="26" height="4" fill-opacity=".35" fill="#000"/>',
    "Electronics": '<path d="M50 62 v-10 a30 30 0 0 1 60 0 v10" fill="none" stroke="#fff" stroke-width="7"/>'
                   '<rect x="42" y="56" width="16" height="26" rx="5"/>'
                   '<rect x="102" y="56" width="16" height="26" rx="5"/>',
    "Kitchen": '<circle cx="70" cy="54" r="26"/><rect x="94" y="50" width="38" height="8" rx="4"/>'
               '<circle cx="70" cy="54" r="16" fill-opacity=".25" fill="#000"/>',
    "Garden": '<circle cx="80" cy="34" r="11"/><circle cx="66" cy="46" r="11"/><circle cx="94" cy="46" r="11"/>'
              '<circle cx="72" cy="60" r="11"/><circle cx="88" cy="60" r="11"/>'
              '<rect x="77" y="60" width="6" height="28"/>',
    "Toys": '<rect x="46" y="56" width="26" height="26" rx="3"/><rect x="76" y="56" width="26" height="26" rx="3"/>'
            '<rect x="61" y="26" width="26" height="26" rx="3"/>',
    "Sports": '<circle cx="80" cy="54" r="30"/><path d="M52 44 q28 14 56 0 M52 64 q28 -14 56 0" fill="none" '
              'stroke-opacity=".35" stroke="#000" stroke-width="4"/>',
    "Beauty": '<rect x="66" y="46" width="28" height="40" rx="4"/><rect x="70" y="30" width="20" height="18" rx="3"/>'
              '<path d="M72 30 l8 -14 l8 14 z"/>',
    "Grocery": '<circle cx="80" cy="58" r="26"/><path d="M80 34 q4 -14 16 -16 q-2 12 -16 16" />'
               '<rect x="78" y="24" width="4" height="12"/>',
    "Fashion": '<path d="M60 26 l-22 14 l8 14 l12 -6 v36 h44 v-36 l12 6 l8 -14 l-22 -14 q-20 14 -40 0 z"/>',
    "Home": '<path d="M44 56 l36 -32 l36 32 z"/><rect x="52" y="54" width="56" height="32"/>'
            '<rect x="74" y="66" width="12" height="20" fill-opacity=".35" fill="#000"/>',
    "Outdoors": '<path d="M34 86 l30 -50 l18 28 l12 -16 l32 38 z"/><circle cx="110" cy="30" r="8"/>',
    "Music": '<rect x="70" y="22" width="5" height="50"/><rect x="100" y="16" width="5" height="50"/>'
             '<path d="M70 22 l35 -6 v10 l-35 6 z"/><circle cx="64" cy="74" r="11"/><circle cx="94" cy="68" r="11"/>',
    "Pets": '<ellipse cx="80" cy="66" rx="18" ry="15"/><circle cx="58" cy="46" r="8"/><circle cx="72" cy="34" r="8"/>'
            '<circle cx="88" cy="34" r="8"/><circle cx="102" cy="46" r="8"/>',
    "Office": '<rect x="50" y="22" width="46" height="62" rx="3"/><path d="M58 36 h30 M58 48 h30 M58 60 h20" '
              'stroke-opacity=".35" stroke="#000" stroke-width="4"/><path d="M104 30 l10 6 l-24 44 l-10 -6 z"/>',
}
HUES: dict[str, int] = {name: (i * 360 // len(GLYPHS) + 200) % 360 for i, name in enumerate(GLYPHS)}
DEFAULT_GLYPH = '<circle cx="80" cy="52" r="28"/>'


def product_svg(product_id: int, title: str, category: str, brand: str) -> str:
    """The picture of one product; the same product always gets the same picture."""
    hue = (HUES.get(category, 210) + (product_id * 37) % 30 - 15) % 360
    light = 38 + (product_id * 7) % 14
    glyph = GLYPHS.get(category, DEFAULT_GLYPH)
    label = escape(brand or category)[:28]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 120" role="img" '
        f'aria-label="{escape(title)}">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" '
        f'stop-color="hsl({hue},55%,{light + 12}%)"/>'
        f'<stop offset="1" stop-color="hsl({(hue + 25) % 360},60%,{light}%)"/>'
        '</linearGradient></defs><rect width="160" height="120" fill="url(#g)"/>'
        f'<circle cx="{20 + product_id * 13 % 120}" cy="{14 + product_id * 29 % 90}" r="{18 + product_id % 22}" '
        'fill="#fff" fill-opacity=".08"/>'
        f'<g fill="#fff">{glyph}</g>'
        f'<text x="80" y="110" text-anchor="middle" font-family="system-ui, sans-serif" font-size="10" '
        f'fill="#fff" fill-opacity=".9">{label}</text></svg>'
    )
