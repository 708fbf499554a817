# ruff: noqa: E501  (drawing data: SVG path strings read better unbroken)
"""Product pictures drawn by the shop itself: an SVG per product, so a fresh checkout has images
and no CDN. Each product type of the demo catalogue (``generator.CATEGORIES``) has its own
drawing (a kettle, a knife and a toaster do not share a pan); the colour is the category's,
varied per product. A product the generator did not make gets its category's first drawing,
or a plain shape."""

from __future__ import annotations

from django.utils.html import escape

from .generator import CATEGORIES, product_type

# Drawn in white on a 160 x 120 canvas, centred near (80, 54). D: a darker detail on white;
# L (or T, thinner by convention): a white line; DL: a darker line; each line gives its width.
D = 'fill="#000" fill-opacity=".28"'
L = 'fill="none" stroke="#fff" stroke-linecap="round" stroke-linejoin="round"'
T = L
DL = 'fill="none" stroke="#000" stroke-opacity=".28" stroke-linecap="round"'
BOOK = f'<rect x="52" y="18" width="58" height="74" rx="4"/><rect x="52" y="18" width="8" height="74" {D}/>'

DRAWINGS: dict[str, str] = {
    # Books: a book, with what it is about on the cover.
    "Novel": '<path d="M26 30 q27 -10 54 4 v58 q-27 -12 -54 -4z M134 30 q-27 -10 -54 4 v58 q27 -12 54 -4z"/>'
        f'<path d="M36 44 q16 -4 34 2 M36 56 q16 -4 34 2 M36 68 q16 -4 34 2 M90 46 q16 -6 34 -2 M90 58 q16 -6 34 -2" {DL} stroke-width="4"/>',
    "Cookbook": BOOK + f'<path d="M76 36 v40 M70 36 v12 q6 6 12 0 v-12 M96 36 q-8 8 0 18 v22" {DL} stroke-width="4"/>',
    "Biography": BOOK + f'<circle cx="85" cy="44" r="9" {D}/><path d="M68 76 q0 -18 17 -18 q17 0 17 18z" {D}/>',
    "Thriller": BOOK + f'<circle cx="85" cy="46" r="9" {D}/><path d="M81 50 h8 l4 22 h-16z" {D}/>',
    "Poetry Collection": BOOK + f'<path d="M100 28 q-30 10 -28 46 l-4 8 M74 64 q14 -6 20 -26" {DL} stroke-width="4"/>',
    "Travel Guide": '<path d="M32 30 l32 -8 l32 8 l32 -8 v66 l-32 8 l-32 -8 l-32 8z"/>'
        f'<path d="M64 22 v66 M96 30 v66" {DL} stroke-width="4"/>'
        f'<path d="M80 40 a10 10 0 0 1 20 0 c0 10 -10 20 -10 20 s-10 -10 -10 -20z" {D}/>',
    "History Book": BOOK + f'<path d="M70 38 h30 M72 76 h26 M76 42 v30 M85 42 v30 M94 42 v30" {DL} stroke-width="4"/>',
    "Fantasy Saga": '<rect x="36" y="26" width="26" height="66" rx="3"/>'
        '<rect x="67" y="20" width="26" height="72" rx="3"/>'
        '<rect x="98" y="30" width="26" height="62" rx="3"/>'
        f'<path d="M80 34 l3 7 h7 l-6 4 l2 7 l-6 -4 l-6 4 l2 -7 l-6 -4 h7z" {D}/>',
    "Science Primer": BOOK + f'<ellipse cx="85" cy="55" rx="18" ry="7" {DL} stroke-width="4"/>'
        f'<ellipse cx="85" cy="55" rx="18" ry="7" transform="rotate(60 85 55)" {DL} stroke-width="4"/>'
        f'<ellipse cx="85" cy="55" rx="18" ry="7" transform="rotate(-60 85 55)" {DL} stroke-width="4"/>',
    "Graphic Novel": BOOK + f'<path d="M68 34 h34 a4 4 0 0 1 4 4 v18 a4 4 0 0 1 -4 4 h-20 l-8 8 v-8 h-6 a4 4 0 0 1 -4 -4 v-18 a4 4 0 0 1 4 -4z" {D}/>',
    # Electronics
    "Headphones": f'<path d="M50 64 v-12 a30 30 0 0 1 60 0 v12" {L} stroke-width="7"/>'
        '<rect x="40" y="56" width="18" height="30" rx="6"/>'
        '<rect x="102" y="56" width="18" height="30" rx="6"/>',
    "Bluetooth Speaker": f'<rect x="56" y="18" width="48" height="76" rx="12"/><circle cx="80" cy="66" r="15" {D}/>'
        f'<circle cx="80" cy="36" r="7" {D}/>',
    "Smartwatch": '<rect x="66" y="12" width="28" height="92" rx="8"/>'
        '<rect x="54" y="32" width="52" height="52" rx="12"/>'
        f'<rect x="61" y="39" width="38" height="38" rx="7" {D}/><path d="M80 50 v9 h7" {T} stroke-width="3"/>',
    "Tablet": '<rect x="28" y="22" width="104" height="72" rx="8"/>'
        f'<rect x="36" y="30" width="80" height="56" rx="3" {D}/><circle cx="124" cy="58" r="3" {D}/>',
    "Charger": '<rect x="54" y="36" width="44" height="44" rx="8"/>'
        f'<path d="M66 36 v-14 M86 36 v-14" {L} stroke-width="6"/>'
        f'<path d="M76 80 q0 22 30 18" {L} stroke-width="5"/>'
        f'<path d="M80 46 l-8 12 h8 l-4 12 l12 -16 h-8 l4 -8z" {D}/>',
    "Webcam": f'<circle cx="80" cy="46" r="28"/><circle cx="80" cy="46" r="14" {D}/><circle cx="80" cy="46" r="5"/>'
        '<path d="M70 72 l-8 18 h36 l-8 -18z"/>',
    "E-Reader": '<rect x="48" y="14" width="64" height="86" rx="6"/>'
        f'<rect x="55" y="22" width="50" height="62" rx="2" {D}/>'
        '<path d="M61 34 h38 M61 44 h38 M61 54 h38 M61 64 h26" stroke="#fff" stroke-width="3"/>',
    "Action Camera": f'<rect x="40" y="30" width="80" height="56" rx="8"/><circle cx="72" cy="58" r="20" {D}/>'
        f'<circle cx="72" cy="58" r="10"/><rect x="98" y="38" width="14" height="10" rx="2" {D}/>'
        '<rect x="50" y="22" width="18" height="8" rx="2"/>',
    "Power Bank": '<rect x="34" y="36" width="88" height="44" rx="8"/>'
        '<rect x="122" y="50" width="6" height="16" rx="2"/>'
        f'<rect x="42" y="44" width="14" height="28" rx="2" {D}/>'
        f'<rect x="60" y="44" width="14" height="28" rx="2" {D}/>'
        f'<rect x="78" y="44" width="14" height="28" rx="2" {D}/>',
    "Router": '<rect x="30" y="58" width="100" height="28" rx="6"/>'
        f'<path d="M50 58 l-8 -36 M110 58 l8 -36 M80 58 v-32" {L} stroke-width="5"/>'
        f'<circle cx="46" cy="72" r="4" {D}/><circle cx="60" cy="72" r="4" {D}/>'
        f'<circle cx="74" cy="72" r="4" {D}/>',
    # Kitchen
    "Kettle": '<path d="M52 86 l6 -46 q22 -10 44 0 l6 46z"/><path d="M56 50 l-18 -14 l4 -4 l18 10z"/>'
        f'<path d="M104 46 q22 4 10 34" {L} stroke-width="6"/>'
        '<rect x="70" y="26" width="20" height="8" rx="3"/>'
        f'<rect x="50" y="86" width="60" height="6" rx="2" {D}/>',
    "Frying Pan": f'<circle cx="66" cy="56" r="28"/><circle cx="66" cy="56" r="18" {D}/>'
        '<rect x="92" y="51" width="44" height="10" rx="5"/>',
    "Chef's Knife": '<path d="M26 78 q40 -44 88 -48 l6 10 l-62 46 q-18 4 -32 -8z"/>'
        f'<path d="M112 34 l22 -16 l8 10 l-22 16z" {D}/><path d="M116 38 l20 -14 l6 8 l-20 14z"/>'
        f'<circle cx="126" cy="32" r="2" {D}/>',
    "Stand Mixer": '<path d="M48 96 h64 v-8 h-44 v-48 q0 -20 22 -20 h26 q12 0 12 12 v8 h-44 v48z"/>'
        f'<path d="M64 60 h44 l-4 24 h-36z" {D}/><path d="M86 48 v18" {L} stroke-width="4"/>',
    "Dutch Oven": '<path d="M42 50 h76 v26 q0 16 -16 16 h-44 q-16 0 -16 -16z"/>'
        '<path d="M38 44 h84 q0 -14 -42 -14 q-42 0 -42 14z"/>'
        '<rect x="72" y="20" width="16" height="8" rx="3"/>'
        f'<path d="M42 58 h-8 M118 58 h8" {L} stroke-width="7"/>',
    "Cutting Board": '<rect x="30" y="32" width="92" height="58" rx="10"/><path d="M122 50 h10 a8 8 0 0 1 0 22 h-10z"/>'
        f'<circle cx="132" cy="61" r="4" {D}/>'
        '<path d="M42 44 h68 M42 56 h68 M42 68 h68 M42 80 h50" stroke="#000" stroke-opacity=".12" stroke-width="2"/>',
    "Coffee Grinder": '<path d="M58 44 h44 l-4 48 h-36z"/><rect x="54" y="36" width="52" height="10" rx="3"/>'
        f'<path d="M80 36 v-14 h26" {L} stroke-width="5"/><circle cx="108" cy="22" r="6"/>'
        f'<rect x="66" y="64" width="28" height="16" rx="3" {D}/>',
    "Toaster": '<rect x="34" y="42" width="92" height="50" rx="14"/>'
        '<path d="M52 42 q0 -22 16 -22 q16 0 16 22z M84 42 q0 -22 16 -22 q16 0 16 22z"/>'
        f'<rect x="50" y="38" width="30" height="6" rx="3" {D}/>'
        f'<rect x="84" y="38" width="30" height="6" rx="3" {D}/>'
        f'<rect x="118" y="56" width="12" height="6" rx="2" {D}/>',
    "Saucepan Set": '<path d="M24 50 h46 v30 q0 10 -10 10 h-26 q-10 0 -10 -10z"/>'
        f'<path d="M70 56 h24" {L} stroke-width="6"/>'
        '<path d="M88 38 h50 v40 q0 12 -12 12 h-26 q-12 0 -12 -12z"/>'
        f'<path d="M138 46 h14" {L} stroke-width="6"/><path d="M88 38 h50 v8 h-50z" {D}/>',
    "Blender": f'<path d="M56 18 h48 l-6 54 h-36z"/><path d="M104 26 q14 2 8 30 l-10 4" {L} stroke-width="5"/>'
        f'<path d="M50 72 h60 l-4 22 h-52z"/><circle cx="80" cy="84" r="5" {D}/>'
        f'<path d="M64 34 h32" {DL} stroke-width="4"/>',
    # Garden
    "Garden Hose": f'<circle cx="70" cy="56" r="32" {L} stroke-width="8"/>'
        f'<circle cx="70" cy="56" r="18" {L} stroke-width="8"/><path d="M102 56 h20" {L} stroke-width="8"/>'
        '<rect x="120" y="48" width="20" height="16" rx="3"/>',
    "Pruning Shears": '<path d="M78 54 q-2 -34 36 -40 q-14 20 -30 44z"/><path d="M82 54 q30 -8 48 10 q-24 6 -44 0z"/>'
        '<path d="M78 56 q-24 14 -40 36 l10 6 q16 -20 34 -36z"/>'
        f'<path d="M84 58 q-2 24 -20 40 l8 6 q18 -18 18 -44z"/><circle cx="81" cy="56" r="4" {D}/>',
    "Planter": '<path d="M46 62 h68 l-8 34 h-52z"/><rect x="42" y="56" width="76" height="10" rx="3"/>'
        '<path d="M80 56 q-30 -8 -26 -36 q24 6 26 36z M80 56 q28 -10 28 -38 q-26 8 -28 38z M80 56 v-30" />',
    "Seed Kit": f'<path d="M46 30 h68 v64 h-68z"/><path d="M46 30 l6 -8 h56 l6 8" {D}/>'
        f'<path d="M80 84 v-24" {DL} stroke-width="4"/>'
        f'<path d="M80 64 q-18 -2 -20 -18 q16 0 20 18z M80 60 q16 -4 18 -20 q-16 2 -18 20z" {D}/>',
    "Wheelbarrow": '<path d="M30 40 h84 l-16 32 h-52z"/><circle cx="72" cy="84" r="12"/>'
        f'<circle cx="72" cy="84" r="5" {D}/><path d="M98 70 l30 10 M56 72 l-6 20" {L} stroke-width="5"/>',
    "Watering Can": '<path d="M50 44 h54 v44 q0 6 -6 6 h-42 q-6 0 -6 -6z"/>'
        f'<path d="M50 54 l-24 -22" {L} stroke-width="8"/>'
        '<rect x="16" y="22" width="16" height="12" rx="3" transform="rotate(-40 24 28)"/>'
        f'<path d="M64 44 q14 -26 28 0" {L} stroke-width="5"/>'
        f'<path d="M104 52 q16 6 8 26" {L} stroke-width="5"/>',
    "Raised Bed": '<rect x="26" y="58" width="108" height="32" rx="3"/>'
        f'<path d="M26 74 h108 M62 58 v32 M98 58 v32" {DL} stroke-width="4"/>'
        '<path d="M44 58 q-6 -20 4 -28 q4 14 -4 28z M58 58 q4 -22 14 -24 q0 16 -14 24z M92 58 q-6 -24 6 -30 q6 14 -6 30z M112 58 q6 -18 16 -18 q-4 14 -16 18z"/>',
    "Lawn Sprinkler": '<rect x="48" y="82" width="64" height="10" rx="4"/>'
        '<rect x="74" y="56" width="12" height="28" rx="3"/>'
        f'<path d="M80 54 q-30 -36 -56 -20 M80 54 q-14 -38 -6 -44 M80 54 q14 -38 6 -44 M80 54 q30 -36 56 -20" {T} stroke-width="3" stroke-dasharray="4 6"/>',
    "Compost Bin": '<path d="M46 40 h68 l-6 54 h-56z"/><rect x="42" y="30" width="76" height="12" rx="4"/>'
        f'<path d="M60 52 v30 M74 52 v30 M88 52 v30 M102 52 v30" {DL} stroke-width="4"/>'
        f'<path d="M72 30 q8 -12 16 0" {L} stroke-width="4"/>',
    "Trowel": '<path d="M40 86 q-6 -40 30 -54 l20 20 q-14 36 -50 34z"/>'
        f'<path d="M72 48 l-20 22" {DL} stroke-width="4"/><path d="M86 40 l10 -10 l8 8 l-10 10z"/>'
        '<rect x="96" y="10" width="16" height="34" rx="7" transform="rotate(45 104 27)"/>',
    # Toys
    "Building Set": '<rect x="30" y="58" width="48" height="30" rx="3"/>'
        '<rect x="84" y="58" width="48" height="30" rx="3"/>'
        '<rect x="56" y="26" width="48" height="30" rx="3"/><rect x="38" y="52" width="10" height="6"/>'
        '<rect x="60" y="52" width="10" height="6"/><rect x="92" y="52" width="10" height="6"/>'
        '<rect x="114" y="52" width="10" height="6"/><rect x="64" y="20" width="10" height="6"/>'
        '<rect x="86" y="20" width="10" height="6"/>',
    "Puzzle": '<path d="M44 30 h22 a10 10 0 1 1 20 0 h22 v22 a10 10 0 1 1 0 20 v22 h-22 a10 10 0 1 0 -20 0 h-22 v-22 a10 10 0 1 0 0 -20z"/>',
    "Plush Bear": '<circle cx="56" cy="28" r="13"/><circle cx="104" cy="28" r="13"/><circle cx="80" cy="52" r="32"/>'
        f'<circle cx="56" cy="28" r="6" {D}/><circle cx="104" cy="28" r="6" {D}/>'
        f'<ellipse cx="80" cy="64" rx="13" ry="10" {D}/><circle cx="68" cy="46" r="4" {D}/>'
        f'<circle cx="92" cy="46" r="4" {D}/><circle cx="80" cy="60" r="4"/>',
    "Board Game": '<rect x="26" y="26" width="72" height="64" rx="4"/>'
        f'<path d="M26 48 h72 M26 68 h72 M50 26 v64 M74 26 v64" {DL} stroke-width="4"/>'
        f'<rect x="104" y="54" width="32" height="32" rx="6"/><circle cx="113" cy="63" r="3" {D}/>'
        f'<circle cx="127" cy="77" r="3" {D}/><circle cx="120" cy="70" r="3" {D}/>',
    "Toy Car": '<path d="M24 76 v-14 q0 -8 8 -8 h14 l14 -18 h38 l16 18 h16 q8 0 8 8 v14z"/>'
        f'<path d="M64 40 h14 v14 h-26z M84 40 h12 l12 14 h-24z" {D}/><circle cx="52" cy="78" r="12"/>'
        f'<circle cx="110" cy="78" r="12"/><circle cx="52" cy="78" r="5" {D}/>'
        f'<circle cx="110" cy="78" r="5" {D}/>',
    "Doll House": '<path d="M36 52 l44 -36 l44 36z"/><rect x="44" y="50" width="72" height="44"/>'
        f'<rect x="54" y="60" width="16" height="14" {D}/><rect x="90" y="60" width="16" height="14" {D}/>'
        f'<rect x="73" y="72" width="14" height="22" {D}/><circle cx="80" cy="38" r="5" {D}/>',
    "Science Kit": '<path d="M68 18 h24 v26 l24 42 q4 8 -6 8 h-60 q-10 0 -6 -8 l24 -42z"/>'
        f'<path d="M52 74 h56 l8 14 q2 4 -4 4 h-64 q-6 0 -4 -4z" {D}/>'
        f'<rect x="64" y="14" width="32" height="8" rx="3"/><circle cx="74" cy="62" r="4" {D}/>'
        f'<circle cx="88" cy="54" r="3" {D}/>',
    "Train Set": '<rect x="24" y="46" width="60" height="34" rx="4"/>'
        '<rect x="84" y="30" width="40" height="50" rx="4"/><rect x="36" y="32" width="12" height="14"/>'
        f'<rect x="92" y="38" width="24" height="16" rx="2" {D}/><circle cx="44" cy="84" r="10"/>'
        '<circle cx="72" cy="84" r="10"/><circle cx="108" cy="84" r="10"/>'
        f'<path d="M16 96 h128" {L} stroke-width="3"/>',
    "Craft Kit": '<path d="M80 20 q48 0 50 36 q2 22 -22 18 q-12 -2 -12 10 q0 14 -20 12 q-46 -4 -46 -38 q0 -38 50 -38z"/>'
        f'<circle cx="60" cy="46" r="8" {D}/><circle cx="82" cy="36" r="8" {D}/>'
        f'<circle cx="104" cy="46" r="8" {D}/><circle cx="58" cy="70" r="8" {D}/>',
    "Kite": f'<path d="M80 8 l30 30 l-30 44 l-30 -44z"/><path d="M80 8 v74 M50 38 h60" {DL} stroke-width="4"/>'
        f'<path d="M80 82 q-7 4 0 8 q7 4 0 8" {T} stroke-width="3"/>'
        '<path d="M75 86 l-6 -3 l2 6z M85 93 l6 -3 l-2 6z"/>',
    # Sports
    "Running Shoes": '<path d="M22 80 q0 -10 10 -12 l26 -6 l12 -22 q6 -6 12 0 q6 16 24 20 l28 8 q12 4 12 14 v6 h-124z"/>'
        f'<path d="M22 86 h124 v6 q0 4 -4 4 h-116 q-4 0 -4 -4z" {D}/>'
        f'<path d="M68 48 l10 6 M64 56 l10 6 M60 64 l10 6" {DL} stroke-width="4"/>',
    "Yoga Mat": '<rect x="20" y="62" width="92" height="24" rx="3"/><circle cx="118" cy="58" r="24"/>'
        f'<circle cx="118" cy="58" r="16" {D}/><circle cx="118" cy="58" r="8"/>',
    "Dumbbell Set": '<rect x="24" y="34" width="18" height="48" rx="4"/>'
        '<rect x="42" y="40" width="12" height="36" rx="3"/>'
        '<rect x="106" y="40" width="12" height="36" rx="3"/>'
        '<rect x="118" y="34" width="18" height="48" rx="4"/>'
        f'<rect x="54" y="52" width="52" height="12" rx="3" {D}/>'
        '<rect x="54" y="52" width="52" height="12" rx="3" fill-opacity=".6"/>',
    "Tennis Racket": f'<ellipse cx="70" cy="44" rx="28" ry="34" transform="rotate(-30 70 44)" {L} stroke-width="7"/>'
        f'<path d="M56 28 l30 34 M48 40 l28 32 M66 18 l28 32 M48 58 l34 -26 M56 70 l34 -26" {T} stroke-width="2"/>'
        '<path d="M88 72 l30 30" stroke="#fff" stroke-width="10" stroke-linecap="round"/>',
    "Football": f'<circle cx="80" cy="54" r="34"/><path d="M80 40 l13 9 l-5 15 h-16 l-5 -15z" {D}/>'
        f'<path d="M80 40 v-20 M93 49 l18 -6 M88 64 l10 16 M72 64 l-10 16 M67 49 l-18 -6" {DL} stroke-width="3"/>',
    "Cycling Helmet": f'<path d="M28 78 q0 -52 56 -52 q48 0 50 44 l-12 8z"/><path d="M28 78 h94" {L} stroke-width="5"/>'
        f'<path d="M54 44 l14 -10 M78 38 l16 0 M104 42 l10 12 M62 58 l14 -10 M90 52 l14 4" {DL} stroke-width="6"/>',
    "Jump Rope": f'<path d="M46 40 q-20 60 34 60 q54 0 34 -60" {L} stroke-width="4"/>'
        '<rect x="38" y="14" width="16" height="30" rx="6"/>'
        '<rect x="106" y="14" width="16" height="30" rx="6"/>',
    "Resistance Bands": f'<ellipse cx="64" cy="54" rx="34" ry="22" {L} stroke-width="9"/>'
        f'<ellipse cx="96" cy="62" rx="34" ry="22" {L} stroke-width="9" stroke-opacity=".75"/>',
    "Gym Bag": '<rect x="26" y="44" width="108" height="46" rx="20"/>'
        f'<path d="M60 44 q0 -24 20 -24 q20 0 20 24" {L} stroke-width="6"/>'
        f'<path d="M40 62 h80" {DL} stroke-width="4"/><rect x="30" y="54" width="14" height="26" rx="5" {D}/>'
        f'<rect x="116" y="54" width="14" height="26" rx="5" {D}/>',
    "Water Bottle": '<rect x="66" y="10" width="28" height="14" rx="4"/>'
        '<path d="M64 28 h32 q8 8 8 20 v44 q0 6 -6 6 h-36 q-6 0 -6 -6 v-44 q0 -12 8 -20z"/>'
        f'<rect x="56" y="48" width="48" height="24" {D}/>',
    # Beauty
    "Face Serum": '<rect x="58" y="46" width="44" height="50" rx="8"/>'
        '<rect x="66" y="34" width="28" height="14" rx="2"/><path d="M70 34 v-12 q10 -12 20 0 v12z"/>'
        f'<rect x="64" y="60" width="32" height="20" rx="2" {D}/>',
    "Moisturiser": '<rect x="38" y="48" width="84" height="42" rx="10"/>'
        f'<rect x="34" y="30" width="92" height="20" rx="8"/><rect x="34" y="44" width="92" height="6" {D}/>'
        f'<path d="M56 68 h48" {DL} stroke-width="4"/>',
    "Lipstick": '<rect x="62" y="62" width="36" height="36" rx="3"/>'
        '<rect x="66" y="46" width="28" height="18" rx="2"/><path d="M68 46 v-18 l24 -12 v30z"/>'
        f'<rect x="62" y="70" width="36" height="4" {D}/>',
    "Shampoo": '<path d="M54 40 q0 -10 10 -10 h32 q10 0 10 10 v50 q0 8 -8 8 h-36 q-8 0 -8 -8z"/>'
        '<rect x="68" y="16" width="24" height="16" rx="3"/>'
        f'<rect x="62" y="52" width="36" height="26" rx="3" {D}/>',
    "Eye Palette": f'<rect x="28" y="30" width="104" height="60" rx="8"/><circle cx="50" cy="50" r="10" {D}/>'
        f'<circle cx="80" cy="50" r="10" {D}/><circle cx="110" cy="50" r="10" {D}/>'
        f'<circle cx="50" cy="74" r="9" {D}/><circle cx="80" cy="74" r="9" {D}/>'
        f'<circle cx="110" cy="74" r="9" {D}/>',
    "Sunscreen": '<path d="M56 22 h48 l-6 66 h-36z"/><rect x="64" y="88" width="32" height="10" rx="3"/>'
        f'<circle cx="80" cy="48" r="9" {D}/>'
        f'<path d="M80 32 v-4 M80 68 v-4 M64 48 h-4 M100 48 h-4 M69 37 l-3 -3 M91 59 l3 3 M91 37 l3 -3 M69 59 l-3 3" {DL} stroke-width="3"/>',
    "Perfume": '<rect x="50" y="44" width="60" height="52" rx="10"/><rect x="70" y="30" width="20" height="16"/>'
        f'<circle cx="80" cy="22" r="10"/><rect x="60" y="58" width="40" height="24" rx="4" {D}/>',
    "Face Mask": '<path d="M80 14 q38 0 38 44 q0 40 -38 44 q-38 -4 -38 -44 q0 -44 38 -44z"/>'
        f'<ellipse cx="66" cy="50" rx="9" ry="6" {D}/><ellipse cx="94" cy="50" rx="9" ry="6" {D}/>'
        f'<path d="M70 78 q10 6 20 0" {DL} stroke-width="4"/>',
    "Hair Oil": '<rect x="60" y="48" width="40" height="48" rx="8"/>'
        '<rect x="68" y="36" width="24" height="14" rx="2"/><path d="M72 36 v-10 q8 -10 16 0 v10z"/>'
        f'<path d="M116 40 q8 12 0 16 q-8 -4 0 -16z"/><rect x="66" y="62" width="28" height="20" rx="2" {D}/>',
    "Cleanser": '<path d="M56 44 h48 v48 q0 6 -6 6 h-36 q-6 0 -6 -6z"/><rect x="72" y="30" width="16" height="16"/>'
        f'<path d="M76 30 v-10 h28 v8" {L} stroke-width="6"/>'
        f'<rect x="62" y="56" width="36" height="26" rx="3" {D}/>',
    # Grocery
    "Coffee Beans": '<ellipse cx="62" cy="56" rx="20" ry="28" transform="rotate(-25 62 56)"/>'
        '<ellipse cx="102" cy="60" rx="20" ry="28" transform="rotate(20 102 60)"/>'
        f'<path d="M68 30 q-14 26 -8 52 M96 34 q14 26 8 52" {DL} stroke-width="5"/>',
    "Olive Oil": '<path d="M66 20 h16 v16 q12 8 12 22 v34 q0 6 -6 6 h-28 q-6 0 -6 -6 v-34 q0 -14 12 -22z"/>'
        '<rect x="64" y="12" width="20" height="10" rx="2"/>'
        f'<rect x="58" y="60" width="32" height="24" rx="2" {D}/><ellipse cx="114" cy="74" rx="12" ry="16"/>'
        f'<path d="M114 58 q4 -12 14 -14" {T} stroke-width="3"/>',
    "Pasta": '<path d="M30 40 q24 16 50 8 q26 -8 50 8 v24 q-24 -16 -50 -8 q-26 8 -50 -8z" transform="rotate(-8 80 56)"/>'
        f'<path d="M70 40 q10 16 0 32 M90 40 q-10 16 0 32" {DL} stroke-width="6"/>',
    "Granola": '<path d="M30 52 h100 q-4 40 -50 40 q-46 0 -50 -40z"/><circle cx="54" cy="48" r="7"/>'
        '<circle cx="72" cy="42" r="8"/><circle cx="92" cy="44" r="7"/><circle cx="108" cy="48" r="6"/>'
        f'<path d="M30 52 h100" {DL} stroke-width="4"/>',
    "Dark Chocolate": '<rect x="40" y="20" width="80" height="76" rx="6"/>'
        f'<path d="M40 39 h80 M40 58 h80 M40 77 h80 M67 20 v76 M93 20 v76" {DL} stroke-width="4"/>'
        '<path d="M40 60 l80 -30 v66 h-80z" fill="#000" fill-opacity=".1"/>',
    "Green Tea": '<path d="M36 44 h72 v22 q0 28 -36 28 q-36 0 -36 -28z"/>'
        f'<path d="M108 52 q20 0 14 20 q-4 8 -16 6" {L} stroke-width="6"/>'
        f'<path d="M82 44 v-22" {T} stroke-width="2"/><rect x="76" y="12" width="14" height="12" rx="2"/>'
        f'<path d="M44 54 h56" {DL} stroke-width="4"/>',
    "Honey": '<path d="M44 40 h64 v46 q0 8 -8 8 h-48 q-8 0 -8 -8z"/>'
        '<rect x="40" y="30" width="72" height="12" rx="4"/>'
        f'<path d="M60 56 l8 -5 l8 5 v9 l-8 5 l-8 -5z M76 56 l8 -5 l8 5 v9 l-8 5 l-8 -5z" {D}/>'
        f'<path d="M112 20 l14 -12" {L} stroke-width="5"/>',
    "Rice": '<path d="M26 54 h108 q-4 40 -54 40 q-50 0 -54 -40z"/><path d="M34 54 q46 -30 92 0z"/>'
        f'<path d="M96 12 l-20 40 M110 14 l-26 38" {L} stroke-width="4"/>'
        f'<path d="M26 54 h108" {DL} stroke-width="4"/>',
    "Hot Sauce": '<path d="M72 22 h16 v14 q10 8 10 20 v36 q0 6 -6 6 h-24 q-6 0 -6 -6 v-36 q0 -12 10 -20z"/>'
        '<rect x="70" y="12" width="20" height="12" rx="2"/>'
        f'<path d="M70 70 q10 -18 24 -16 q-4 18 -24 16z" {D}/>'
        '<path d="M106 46 q16 -2 20 20 q-12 12 -20 -20z"/>',
    "Peanut Butter": '<rect x="44" y="38" width="72" height="56" rx="8"/>'
        '<rect x="40" y="24" width="80" height="16" rx="4"/>'
        f'<path d="M70 52 q10 -6 20 0 q4 10 -4 14 q8 4 4 14 q-10 6 -20 0 q-4 -10 4 -14 q-8 -4 -4 -14z" {D}/>',
    # Fashion
    "Denim Jacket": '<path d="M60 22 l-24 12 l-10 56 h16 l4 -40 v48 h68 v-48 l4 40 h16 l-10 -56 l-24 -12 l-20 22z"/>'
        f'<path d="M80 44 v54 M64 60 h10 M86 60 h10" {DL} stroke-width="3"/>',
    "Sneakers": '<path d="M24 84 q-2 -14 10 -16 l30 -4 q10 -18 22 -22 q10 12 26 16 q28 6 34 18 q4 8 -2 12z"/>'
        f'<path d="M24 84 h120 v8 h-120z" {D}/><path d="M72 52 l10 8 M66 58 l10 8" {DL} stroke-width="3"/>',
    "Wool Scarf": '<path d="M44 20 h30 q8 30 -4 52 l-10 22 h-22 l10 -26 q10 -20 -4 -48z"/>'
        '<path d="M74 24 q34 8 48 34 l-18 10 q-10 -18 -34 -26z"/>'
        f'<path d="M46 95 v5 M52 95 v5 M58 95 v5 M64 95 v5" {T} stroke-width="2"/>'
        f'<path d="M48 36 h24 M48 48 h24" {DL} stroke-width="3"/>',
    "Summer Dress": '<path d="M66 16 h28 l-2 22 q8 6 10 18 l18 40 h-80 l18 -40 q2 -12 10 -18z"/>'
        f'<path d="M62 56 h36" {DL} stroke-width="4"/><circle cx="70" cy="76" r="4" {D}/>'
        f'<circle cx="90" cy="70" r="4" {D}/><circle cx="84" cy="86" r="4" {D}/>',
    "Leather Belt": '<path d="M20 60 q60 -30 120 0 v14 q-60 -30 -120 0z"/>'
        f'<rect x="60" y="40" width="26" height="30" rx="4" {L} stroke-width="5"/>'
        f'<path d="M72 50 h14" {L} stroke-width="4"/><circle cx="110" cy="58" r="2" {D}/>'
        f'<circle cx="120" cy="62" r="2" {D}/>',
    "Handbag": f'<path d="M34 48 h92 l-8 46 h-76z"/><path d="M56 48 q0 -34 24 -34 q24 0 24 34" {L} stroke-width="6"/>'
        f'<rect x="72" y="56" width="16" height="10" rx="2" {D}/>',
    "Chinos": f'<path d="M54 14 h52 l8 84 h-22 l-12 -60 l-12 60 h-22z"/><path d="M54 24 h52" {DL} stroke-width="4"/>'
        f'<path d="M80 24 v14" {DL} stroke-width="3"/>',
    "Knit Sweater": '<path d="M62 20 q18 12 36 0 l26 10 l14 56 l-16 4 l-10 -40 v48 h-64 v-48 l-10 40 l-16 -4 l14 -56z"/>'
        f'<path d="M48 88 h64 M70 28 q10 6 20 0" {DL} stroke-width="3"/>'
        f'<path d="M60 44 l4 8 l4 -8 M76 44 l4 8 l4 -8 M92 44 l4 8 l4 -8" {DL} stroke-width="2"/>',
    "Sunglasses": '<path d="M26 44 h44 q0 30 -22 30 q-22 0 -22 -30z M90 44 h44 q0 30 -22 30 q-22 0 -22 -30z"/>'
        f'<path d="M70 48 q10 -8 20 0" {L} stroke-width="4"/>'
        f'<path d="M26 44 l-8 -8 M134 44 l8 -8" {L} stroke-width="4"/>'
        f'<path d="M34 52 l12 -6 M98 52 l12 -6" {DL} stroke-width="3"/>',
    "Ankle Boots": f'<path d="M58 14 h30 v46 l28 12 q14 6 14 16 v6 h-86 v-50z"/><path d="M44 88 h86 v8 h-86z" {D}/>'
        f'<path d="M62 14 h22 v10 h-22z" {D}/><rect x="40" y="80" width="14" height="16" rx="2"/>',
    # Home
    "Throw Blanket": '<rect x="30" y="28" width="100" height="56" rx="6"/>'
        f'<path d="M30 46 h100 M30 64 h100" {DL} stroke-width="4"/>'
        f'<path d="M36 86 v10 M46 86 v10 M56 86 v10 M66 86 v10 M76 86 v10 M86 86 v10 M96 86 v10 M106 86 v10 M116 86 v10 M124 86 v10" {T} stroke-width="2"/>',
    "Table Lamp": '<path d="M52 18 h56 l14 38 h-84z"/><rect x="76" y="56" width="8" height="28"/>'
        f'<path d="M56 96 q0 -14 24 -14 q24 0 24 14z"/><path d="M38 56 h84" {DL} stroke-width="4"/>',
    "Scented Candle": '<path d="M48 48 h64 v40 q0 8 -8 8 h-48 q-8 0 -8 -8z"/>'
        f'<rect x="56" y="60" width="48" height="22" rx="3" {D}/>'
        '<path d="M80 46 v-10"  stroke="#fff" stroke-width="3"/>'
        '<path d="M80 14 q12 12 0 22 q-12 -10 0 -22z"/>',
    "Cushion": '<path d="M34 26 q46 12 92 0 q-10 32 0 64 q-46 -12 -92 0 q10 -32 0 -64z"/>'
        f'<path d="M54 58 h52" {DL} stroke-width="3"/><circle cx="80" cy="58" r="6" {D}/>',
    "Wall Clock": f'<circle cx="80" cy="56" r="38"/><circle cx="80" cy="56" r="30" {D}/><circle cx="80" cy="56" r="26"/>'
        '<path d="M80 56 v-18 M80 56 l14 8" stroke="#000" stroke-opacity=".5" stroke-width="4" stroke-linecap="round"/>',
    "Rug": f'<rect x="34" y="22" width="92" height="70" rx="2"/><rect x="46" y="34" width="68" height="46" {D}/>'
        '<path d="M80 40 l20 17 l-20 17 l-20 -17z"/>'
        f'<path d="M30 26 h-8 M30 38 h-8 M30 50 h-8 M30 62 h-8 M30 74 h-8 M30 86 h-8 M130 26 h8 M130 38 h8 M130 50 h8 M130 62 h8 M130 74 h8 M130 86 h8" {T} stroke-width="2"/>',
    "Bed Linen Set": '<rect x="30" y="66" width="100" height="26" rx="4"/>'
        '<rect x="36" y="44" width="88" height="24" rx="4"/>'
        '<rect x="42" y="22" width="76" height="24" rx="4"/>'
        f'<path d="M36 56 h88 M42 34 h76" {DL} stroke-width="2"/>',
    "Vase": '<path d="M66 54 q-18 16 -10 36 q4 6 12 6 h24 q8 0 12 -6 q8 -20 -10 -36 v-8 h-28z"/>'
        '<path d="M80 46 q-4 -20 -20 -28 M80 46 q2 -22 14 -34 M80 46 q8 -14 24 -16"  stroke="#fff" stroke-width="3" fill="none"/>'
        '<circle cx="58" cy="16" r="8"/><circle cx="96" cy="10" r="8"/><circle cx="108" cy="30" r="7"/>',
    "Bookshelf": f'<rect x="38" y="14" width="84" height="84" rx="2"/><rect x="44" y="20" width="72" height="22" {D}/>'
        f'<rect x="44" y="48" width="72" height="22" {D}/>'
        '<rect x="44" y="76" width="72" height="16" fill="#000" fill-opacity=".28"/>'
        '<rect x="50" y="24" width="6" height="18"/><rect x="58" y="22" width="6" height="20"/>'
        '<rect x="66" y="26" width="6" height="16"/><rect x="88" y="52" width="6" height="18"/>'
        '<rect x="96" y="54" width="6" height="16"/><rect x="104" y="50" width="6" height="20"/>',
    "Storage Basket": '<path d="M36 40 h88 l-10 54 h-68z"/>'
        f'<path d="M40 54 h80 M42 68 h76 M44 82 h72" {DL} stroke-width="3"/>'
        f'<path d="M58 40 v54 M80 40 v54 M102 40 v54" {DL} stroke-width="3"/>'
        f'<path d="M54 40 q0 -20 26 -20 q26 0 26 20" {L} stroke-width="5"/>',
    # Outdoors
    "Tent": f'<path d="M20 92 l60 -76 l60 76z"/><path d="M80 16 l-20 76 h40z" {D}/>'
        f'<path d="M14 92 h132" {L} stroke-width="3"/>',
    "Hiking Backpack": '<path d="M52 30 q0 -18 28 -18 q28 0 28 18 v60 q0 6 -6 6 h-44 q-6 0 -6 -6z"/>'
        f'<rect x="60" y="58" width="40" height="30" rx="6" {D}/><path d="M52 34 h56" {DL} stroke-width="4"/>'
        f'<path d="M52 50 h-10 v34 h10 M108 50 h10 v34 h-10" {L} stroke-width="4"/>',
    "Sleeping Bag": '<path d="M48 28 q0 -14 32 -14 q32 0 32 14 l-8 66 q-24 8 -48 0z"/>'
        f'<ellipse cx="80" cy="30" rx="20" ry="10" {D}/>'
        f'<path d="M56 50 h48 M58 66 h44 M60 82 h40" {DL} stroke-width="3"/>',
    "Headlamp": f'<ellipse cx="80" cy="56" rx="44" ry="22" {L} stroke-width="7"/>'
        f'<rect x="62" y="62" width="36" height="26" rx="8"/><circle cx="80" cy="75" r="8" {D}/>'
        f'<path d="M66 92 l-14 8 M80 94 v8 M94 92 l14 8" {T} stroke-width="3"/>',
    "Camping Stove": '<rect x="42" y="70" width="76" height="16" rx="4"/>'
        f'<path d="M50 86 l-8 12 M110 86 l8 12" {L} stroke-width="4"/>'
        '<path d="M62 70 q-6 -18 10 -26 q-2 12 8 14 q4 -14 14 -20 q-2 16 6 22 q2 6 -2 10z"/>'
        f'<path d="M74 66 q0 -8 6 -12 q6 4 6 12z" {D}/>',
    "Trekking Poles": f'<path d="M54 16 l30 84 M106 16 l-30 84" {L} stroke-width="5"/>'
        '<rect x="44" y="10" width="16" height="26" rx="6" transform="rotate(-20 52 23)"/>'
        '<rect x="100" y="10" width="16" height="26" rx="6" transform="rotate(20 108 23)"/>'
        f'<path d="M74 92 h20 M66 92 h20" {T} stroke-width="3"/>',
    "Rain Jacket": '<path d="M64 20 q16 -12 32 0 l24 12 l12 56 h-16 l-6 -36 v50 h-60 v-50 l-6 36 h-16 l12 -56z"/>'
        f'<path d="M66 22 q14 14 28 0" {D}/><path d="M80 34 v66" {DL} stroke-width="3"/>'
        '<path d="M132 16 q4 6 0 10 q-4 -4 0 -10z M24 30 q4 6 0 10 q-4 -4 0 -10z"/>',
    "Hammock": '<rect x="16" y="14" width="10" height="84" rx="3"/>'
        '<rect x="134" y="14" width="10" height="84" rx="3"/>'
        f'<path d="M26 36 q54 70 108 0" {L} stroke-width="3"/><path d="M36 46 q44 44 88 0 q-44 26 -88 0z"/>',
    "Cooler Box": '<rect x="32" y="40" width="96" height="52" rx="6"/>'
        '<rect x="28" y="32" width="104" height="14" rx="4"/>'
        f'<path d="M60 32 v-10 h40 v10" {L} stroke-width="5"/>'
        f'<rect x="44" y="58" width="22" height="10" rx="3" {D}/>',
    "Hiking Boots": f'<path d="M50 12 h36 l2 50 l28 10 q14 6 14 16 v6 h-92 v-44z"/><path d="M38 88 h92 v8 h-92z" {D}/>'
        f'<path d="M60 24 l20 6 M60 34 l20 6 M60 44 l20 6" {DL} stroke-width="3"/>',
    # Music
    "Acoustic Guitar": f'<circle cx="62" cy="78" r="22"/><circle cx="76" cy="56" r="16"/><circle cx="66" cy="72" r="6" {D}/>'
        '<path d="M80 54 l40 -40" stroke="#fff" stroke-width="8" stroke-linecap="round"/>'
        '<rect x="114" y="6" width="16" height="14" rx="3" transform="rotate(45 122 13)"/>',
    "Vinyl Record": f'<circle cx="80" cy="56" r="42"/><circle cx="80" cy="56" r="34" {D}/><circle cx="80" cy="56" r="26"/>'
        f'<circle cx="80" cy="56" r="14" {D}/><circle cx="80" cy="56" r="3"/>',
    "Keyboard": '<rect x="18" y="34" width="124" height="52" rx="4"/>'
        f'<rect x="18" y="34" width="124" height="14" {D}/>'
        f'<path d="M33 48 v38 M48 48 v38 M63 48 v38 M78 48 v38 M93 48 v38 M108 48 v38 M123 48 v38" {DL} stroke-width="2"/>'
        f'<rect x="28" y="48" width="9" height="22" {D}/><rect x="43" y="48" width="9" height="22" {D}/>'
        f'<rect x="73" y="48" width="9" height="22" {D}/><rect x="88" y="48" width="9" height="22" {D}/>'
        f'<rect x="103" y="48" width="9" height="22" {D}/>',
    "Ukulele": '<ellipse cx="66" cy="76" rx="18" ry="16"/><ellipse cx="76" cy="60" rx="13" ry="11"/>'
        f'<circle cx="70" cy="70" r="5" {D}/>'
        '<path d="M80 56 l30 -30" stroke="#fff" stroke-width="7" stroke-linecap="round"/>'
        '<rect x="104" y="14" width="14" height="12" rx="3" transform="rotate(45 111 20)"/>',
    "Drum Pad": '<rect x="28" y="24" width="104" height="70" rx="8"/>'
        f'<rect x="38" y="34" width="24" height="22" rx="4" {D}/>'
        f'<rect x="68" y="34" width="24" height="22" rx="4" {D}/>'
        f'<rect x="98" y="34" width="24" height="22" rx="4" {D}/>'
        f'<rect x="38" y="62" width="24" height="22" rx="4" {D}/>'
        f'<rect x="68" y="62" width="24" height="22" rx="4" {D}/>'
        f'<rect x="98" y="62" width="24" height="22" rx="4" {D}/>',
    "Microphone": '<rect x="64" y="12" width="32" height="50" rx="16"/>'
        f'<path d="M64 30 h32 M64 40 h32" {DL} stroke-width="3"/>'
        f'<path d="M54 46 q0 28 26 28 q26 0 26 -28" {L} stroke-width="5"/>'
        f'<path d="M80 74 v18 M64 96 h32" {L} stroke-width="6"/>',
    "Guitar Strings": '<rect x="38" y="20" width="84" height="76" rx="6"/>'
        f'<circle cx="80" cy="54" r="24" {DL} stroke-width="3"/>'
        f'<circle cx="80" cy="54" r="18" {DL} stroke-width="3"/>'
        f'<circle cx="80" cy="54" r="12" {DL} stroke-width="3"/>'
        f'<rect x="46" y="82" width="68" height="8" rx="2" {D}/>',
    "Studio Monitor": f'<rect x="50" y="12" width="60" height="88" rx="6"/><circle cx="80" cy="68" r="20" {D}/>'
        f'<circle cx="80" cy="68" r="8"/><circle cx="80" cy="32" r="10" {D}/>',
    "Violin": '<path d="M80 34 q-22 0 -20 18 q2 8 -4 12 q-8 8 -2 20 q8 14 26 14 q18 0 26 -14 q6 -12 -2 -20 q-6 -4 -4 -12 q2 -18 -20 -18z"/>'
        f'<path d="M72 58 q-4 8 0 14 M88 58 q4 8 0 14" {DL} stroke-width="3"/>'
        '<rect x="77" y="8" width="6" height="30"/><circle cx="80" cy="8" r="5"/>',
    "Audio Interface": f'<rect x="22" y="38" width="116" height="44" rx="6"/><circle cx="44" cy="60" r="10" {D}/>'
        f'<circle cx="72" cy="60" r="10" {D}/><circle cx="102" cy="60" r="7" {D}/>'
        f'<circle cx="122" cy="60" r="7" {D}/>'
        '<path d="M44 60 l4 -6 M72 60 l-4 -6" stroke="#fff" stroke-width="3"/>',
    # Pets
    "Dog Food": f'<path d="M46 24 h68 l6 70 h-80z"/><path d="M46 24 l4 -10 h60 l4 10" {D}/>'
        f'<path d="M62 60 h36 M62 60 a6 6 0 1 1 -4 -8 a6 6 0 1 1 4 -8 M98 60 a6 6 0 1 0 4 -8 a6 6 0 1 0 -4 -8 M62 44 h36" {DL} stroke-width="4"/>',
    "Cat Tree": '<rect x="48" y="28" width="10" height="66"/><rect x="100" y="48" width="10" height="46"/>'
        '<rect x="34" y="22" width="40" height="10" rx="3"/>'
        '<rect x="86" y="42" width="40" height="10" rx="3"/>'
        f'<rect x="36" y="88" width="92" height="10" rx="3"/><circle cx="66" cy="60" r="9" {D}/>'
        '<path d="M42 14 l4 -8 l4 8z M58 14 l4 -8 l4 8z"/><ellipse cx="54" cy="18" rx="12" ry="6"/>',
    "Pet Bed": f'<ellipse cx="80" cy="70" rx="56" ry="24"/><ellipse cx="80" cy="64" rx="40" ry="14" {D}/>'
        '<path d="M54 64 q0 -20 26 -20 q26 0 26 20 q-26 8 -52 0z"/><circle cx="98" cy="46" r="8"/>',
    "Chew Toy": '<g transform="rotate(-20 80 58)"><rect x="52" y="50" width="56" height="16" rx="4"/>'
        '<circle cx="50" cy="49" r="11"/><circle cx="50" cy="67" r="11"/><circle cx="110" cy="49" r="11"/>'
        '<circle cx="110" cy="67" r="11"/></g>',
    "Leash": f'<ellipse cx="44" cy="36" rx="18" ry="22" {L} stroke-width="7"/>'
        f'<path d="M56 52 q40 40 70 20" {L} stroke-width="5"/>'
        f'<rect x="122" y="64" width="14" height="22" rx="5"/><circle cx="129" cy="80" r="3" {D}/>',
    "Litter Box": '<path d="M26 90 h108 v-34 q0 -36 -54 -36 q-54 0 -54 36z"/>'
        f'<path d="M56 90 v-24 q0 -18 24 -18 q24 0 24 18 v24z" {D}/>'
        f'<path d="M26 90 h108" {L} stroke-width="4"/>',
    "Bird Feeder": '<path d="M40 40 l40 -26 l40 26z"/><rect x="50" y="40" width="60" height="42"/>'
        f'<circle cx="80" cy="60" r="10" {D}/><path d="M80 14 v-8 M46 86 h68" {L} stroke-width="4"/>'
        '<rect x="44" y="82" width="72" height="6" rx="2"/>',
    "Aquarium Filter": '<rect x="24" y="26" width="112" height="68" rx="4"/>'
        f'<rect x="30" y="36" width="100" height="52" {D}/>'
        '<path d="M60 62 q14 -14 30 0 q-16 14 -30 0z M90 62 l10 -8 v16z"/>'
        '<rect x="112" y="16" width="16" height="50" rx="3"/><circle cx="50" cy="48" r="3"/>'
        '<circle cx="56" cy="42" r="2"/>',
    "Grooming Brush": f'<rect x="32" y="40" width="72" height="36" rx="14"/><path d="M104 56 h36" {L} stroke-width="10"/>'
        f'<path d="M40 76 v14 M50 76 v14 M60 76 v14 M70 76 v14 M80 76 v14 M90 76 v14" {T} stroke-width="3"/>'
        f'<rect x="40" y="48" width="56" height="20" rx="8" {D}/>',
    "Cat Treats": '<path d="M30 58 q30 -34 72 -4 l22 -16 v40 l-22 -16 q-42 30 -72 -4z"/>'
        f'<circle cx="52" cy="54" r="4" {D}/><path d="M70 46 q6 10 0 20" {DL} stroke-width="3"/>',
    # Office
    "Notebook": '<rect x="46" y="16" width="70" height="82" rx="4"/>'
        f'<path d="M64 30 h40 M64 44 h40 M64 58 h40 M64 72 h28" {DL} stroke-width="3"/>'
        f'<path d="M40 26 h14 M40 40 h14 M40 54 h14 M40 68 h14 M40 82 h14" {L} stroke-width="4"/>',
    "Fountain Pen": f'<path d="M36 96 l8 -22 l60 -60 l14 14 l-60 60z"/><path d="M36 96 l8 -22 l14 14z" {D}/>'
        f'<path d="M38 94 l12 -12" {DL} stroke-width="2"/><path d="M96 22 l14 14" {DL} stroke-width="3"/>',
    "Desk Organiser": '<rect x="40" y="56" width="36" height="40" rx="3"/>'
        '<rect x="80" y="44" width="40" height="52" rx="3"/>'
        f'<path d="M48 56 l-6 -40 M58 56 v-44 M68 56 l8 -38" {L} stroke-width="5"/>'
        f'<rect x="88" y="52" width="24" height="10" rx="2" {D}/>',
    "Office Chair": '<rect x="52" y="10" width="56" height="48" rx="14"/>'
        '<rect x="44" y="58" width="72" height="14" rx="6"/>'
        f'<path d="M80 72 v16 M52 98 l28 -10 l28 10 M80 88 v10" {L} stroke-width="5"/>'
        f'<path d="M40 52 v14 M120 52 v14" {L} stroke-width="5"/>',
    "Planner": '<rect x="36" y="22" width="88" height="74" rx="6"/>'
        f'<rect x="36" y="22" width="88" height="18" rx="6" {D}/>'
        f'<path d="M56 14 v16 M104 14 v16" {L} stroke-width="5"/>'
        f'<path d="M44 52 h72 M44 66 h72 M44 80 h72 M62 46 v44 M80 46 v44 M98 46 v44" {DL} stroke-width="2"/>',
    "Stapler": '<path d="M26 80 h100 q10 0 10 -8 v-6 h-110z"/>'
        '<path d="M30 64 l8 -22 q2 -6 10 -6 h70 q16 0 16 14 v14z"/>'
        f'<path d="M40 56 h90" {DL} stroke-width="3"/>',
    "Monitor Stand": f'<rect x="30" y="12" width="100" height="60" rx="4"/><rect x="36" y="18" width="88" height="48" {D}/>'
        '<rect x="20" y="82" width="120" height="10" rx="2"/><rect x="30" y="92" width="8" height="10"/>'
        '<rect x="122" y="92" width="8" height="10"/><rect x="74" y="72" width="12" height="10"/>',
    "Desk Lamp": f'<path d="M44 96 h40" {L} stroke-width="8"/><path d="M64 92 l-16 -34 l40 -26" {L} stroke-width="5"/>'
        f'<path d="M84 16 l36 18 l-12 22 q-24 -2 -32 -18z"/><circle cx="48" cy="58" r="5" {D}/>'
        f'<circle cx="88" cy="32" r="5" {D}/>',
    "Whiteboard": '<rect x="28" y="14" width="104" height="68" rx="3"/>'
        '<rect x="34" y="20" width="92" height="56" fill="#fff"/>'
        f'<path d="M44 40 q10 -14 20 0 q10 14 20 0 M44 60 h40 M96 32 l18 24" {DL} stroke-width="3"/>'
        f'<path d="M50 82 l-10 20 M110 82 l10 20" {L} stroke-width="5"/>'
        f'<rect x="88" y="80" width="24" height="5" rx="2" {D}/>',
    "Filing Box": '<path d="M34 40 h92 v52 h-92z"/><path d="M30 30 h100 v12 h-100z"/>'
        f'<rect x="66" y="54" width="28" height="14" rx="2" {D}/><path d="M70 76 h20" {DL} stroke-width="5"/>',
}

HUES: dict[str, int] = {name: (i * 360 // len(CATEGORIES) + 200) % 360 for i, name in enumerate(CATEGORIES)}
DEFAULT_DRAWING = '<circle cx="80" cy="52" r="28"/>'


def drawing_for(category: str, title: str) -> str:
    kind = product_type(category, title)
    if kind is not None:
        return DRAWINGS.get(kind.noun, DEFAULT_DRAWING)
    spec = CATEGORIES.get(category)
    return DRAWINGS.get(spec.types[0].noun, DEFAULT_DRAWING) if spec else DEFAULT_DRAWING


def product_svg(product_id: int, title: str, category: str, brand: str) -> str:
    """The picture of one product; the same product always gets the same picture."""
    hue = (HUES.get(category, 210) + (product_id * 37) % 30 - 15) % 360
    light = 34 + (product_id * 7) % 12
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
        f'<g fill="#fff">{drawing_for(category, title)}</g>'
        f'<text x="80" y="112" text-anchor="middle" font-family="system-ui, sans-serif" font-size="10" '
        f'fill="#fff" fill-opacity=".9">{label}</text></svg>'
    )
