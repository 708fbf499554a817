"""Synthetic, seeded shop data with planted tastes (pure numpy/pandas, no Django).

The catalogue has 14 categories, each with its own brands and ten product types; each type has
the adjectives and attributes that make sense for it ("Electric Kettle", never a
"Noise-Cancelling Router") and a price relative to its category's. Names are "Brand Adjective
Type", unique, without serial numbers (a colour, size or edition in brackets when that name is
taken); prices are lognormal per type; descriptions mention the attributes so content (TF-IDF)
features carry signal. Shoppers have names, emails and addresses, and hidden tastes:

* a mixture over 1-3 favourite categories (plus a little exploration elsewhere),
* one or two preferred brands in each favourite category,
* a price band (cheap ... premium, relative to each category's price range),

and products have a popularity skew within their category. Shoppers browse in sessions (one
category per session) with a sequential intent: a shopper who views a device (a tablet, a tent,
an office chair: ``ACCESSORIES``) goes on to its accessories in a fixed order (its charger, then
its power bank), in that session or in their next one in the category, never the accessory
first, so the order of views says something co-occurrence cannot. Views turn into carts and
carts into purchases more often for products that match their taste, and ratings (given for
some purchases) are higher for liked products.
Each session's purchases are one order (``DemoData.orders``), so the shop can show every
purchase the engines learn from on the shopper's Orders page. Events spread over the ``DAYS``
days before ``end``. A recommender that learns the tastes beats popularity on this data.

A few named shoppers (``NAMED_SHOPPERS``) have fixed, documented tastes: user ids 1..5 are
alice (Books, Kitchen), bob (Sports, Outdoors), carol (Beauty, Fashion), dave (Electronics,
Music) and erin (Garden, Pets).

Entry points:
    generate(...) -> DemoData          frames plus the hidden tastes
    generate_frames(...) -> (events, products) in the import format
    write_import_csv(events, products, directory) -> (products.csv, events.csv)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DAYS = 180
EVENT_COLUMNS = ["user_id", "product_id", "event", "timestamp", "value"]
PRODUCT_COLUMNS = ["product_id", "name", "description", "category", "brand", "price"]


@dataclass(frozen=True)
class ProductType:
    """A kind of product within a category: the words that make sense with it (``Electric``
    kettle, not ``Noise-Cancelling`` router) and its price relative to the category's median."""

    noun: str
    adjectives: tuple[str, ...]
    attributes: tuple[str, ...]
    price_factor: float = 1.0


def _type(noun: str, adjectives: str, attributes: str, price_factor: float = 1.0) -> ProductType:
    return ProductType(noun, tuple(adjectives.split("|")), tuple(attributes.split("|")), price_factor)


@dataclass(frozen=True)
class CategorySpec:
    brands: tuple[str, ...]
    types: tuple[ProductType, ...]
    variants: tuple[str, ...]  # told apart by these when brand, adjective and type coincide
    median_price: float
    price_sigma: float
    weight: float  # share of the catalogue and of shoppers' interest

    @property
    def nouns(self) -> tuple[str, ...]:
        return tuple(t.noun for t in self.types)

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for t in self.types for a in t.attributes))


CATEGORIES: dict[str, CategorySpec] = {
    "Books": CategorySpec(
        ("Penguin House", "Harbor Press", "Quillstone", "Northlight Books", "Red Fern", "Atlas & Ink"), (
            _type("Novel", "Literary|Historical|Debut|Coming-of-Age|Bestselling|Prize-Winning",
                  "paperback|hardcover|reading group guide|author's afterword|first edition"),
            _type("Cookbook", "Weeknight|Italian|Vegetarian|Baking|Slow-Cooker|Street Food",
                  "hardcover|full-colour photography|120 recipes|step-by-step methods|lay-flat binding", 1.6),
            _type("Biography", "Acclaimed|Intimate|Definitive|Illustrated|Sporting",
                  "hardcover|archive photographs|extensive notes|paperback|timeline and index", 1.3),
            _type("Thriller", "Gripping|Psychological|Nordic|Spy|Courtroom|Page-Turning",
                  "paperback|pocket size|bonus chapter|large print", 0.8),
            _type("Poetry Collection", "Collected|Selected|Modern|Illustrated|Bilingual",
                  "hardcover|paperback|editor's foreword|woodcut illustrations|ribbon marker", 0.9),
            _type("Travel Guide", "Lisbon|Japan|Iceland|Scottish Highlands|Andalusia|New York",
                  "fold-out map|walking routes|phrasebook|updated edition|colour photographs", 1.1),
            _type("History Book", "Ancient Rome|Medieval|Maritime|Industrial Revolution|Cold War|World",
                  "hardcover|maps with timelines|archive photographs|extensive notes", 1.4),
            _type("Fantasy Saga", "Epic|Dragon|Dark|Young Adult|Complete|Mythic",
                  "box set|paperback|map of the realm|bonus short story", 1.2),
            _type("Science Primer", "Astronomy|Physics|Biology|Climate|Chemistry|Mathematics",
                  "diagrams on every page|glossary|paperback|exercises with answers", 1.1),
            _type("Graphic Novel", "Sci-Fi|Noir|Superhero|Manga|Memoir|Fantasy",
                  "full colour|hardcover|deluxe edition|artist's sketchbook", 1.3),
        ), ("Paperback", "Hardcover", "Pocket Edition", "Anniversary Edition", "Large Print",
            "Gift Edition", "Signed Copy", "Second Edition"),
        14.0, 0.45, 1.3,
    ),
    "Electronics": CategorySpec(
        ("Voltix", "Lumina", "Sonora", "Kestrel Tech", "Nimbus", "Quantic"), (
            _type("Headphones", "Wireless|Noise-Cancelling|Over-Ear|Studio|Sport|Foldable",
                  "bluetooth 5.3|40 hour battery|active noise cancelling|usb-c charging|memory foam cushions", 1.2),
            _type("Bluetooth Speaker", "Portable|Waterproof|Compact|Party|Rugged|Mini",
                  "360 degree sound|ip67 water resistance|12 hour battery|usb-c charging|stereo pairing", 0.8),
            _type("Smartwatch", "Fitness|Slim|Rugged|Classic|GPS|Kids'",
                  "heart rate monitor|built-in gps|amoled display|7 day battery|water resistance", 1.8),
            _type("Tablet", "10-Inch|8-Inch|Kids'|Pro|Lightweight|Drawing",
                  "full hd display|128 gb storage|stylus support|usb-c charging|quad speakers", 3.0),
            _type("Charger", "Fast|Wireless|Dual-Port|Travel|Magnetic|Desktop",
                  "usb-c power delivery|65 w output|foldable plug|overheat protection", 0.3),
            _type("Webcam", "Full HD|4K|Wide-Angle|Streaming|Compact",
                  "autofocus|dual microphones|privacy shutter|low-light correction", 0.7),
            _type("E-Reader", "Glare-Free|Waterproof|Compact|Large-Screen|Colour",
                  "e-ink display|adjustable warm light|weeks of battery|32 gb storage", 1.4),
            _type("Action Camera", "4K|Waterproof|Helmet|Compact|360-Degree",
                  "4k video|image stabilisation|waterproof to 10 m|wide-angle lens", 2.2),
            _type("Power Bank", "Slim|High-Capacity|Magnetic|Solar|Pocket",
                  "20000 mah capacity|usb-c power delivery|led charge indicator|fast charging", 0.4),
            _type("Router", "Wi-Fi 6|Mesh|Dual-Band|Gaming|Travel",
                  "wi-fi 6|four gigabit ports|parental controls|wpa3 security", 1.1),
        ), ("Black", "White", "Graphite", "Silver", "Midnight Blue", "Sage Green", "Rose Gold",
            "2nd Generation"),
        89.0, 0.8, 1.2,
    ),
    "Kitchen": CategorySpec(
        ("Copperline", "ChefCraft", "Oak & Iron", "Mesa", "Saltbox", "Brightpan"), (
            _type("Kettle", "Electric|Stovetop|Whistling|Cordless|Glass|Retro",
                  "1.7 litre capacity|rapid boil|auto shut-off|limescale filter|stainless steel"),
            _type("Frying Pan", "Non-Stick|Cast Iron|Stainless|Carbon Steel|Ceramic|Deep",
                  "induction ready|oven safe|non-stick coating|ergonomic handle|28 cm diameter", 0.9),
            _type("Chef's Knife", "Japanese|Forged|Damascus|Classic|Professional|Everyday",
                  "high-carbon steel|full tang|ergonomic handle|hand sharpened|blade guard", 1.2),
            _type("Stand Mixer", "Professional|Compact|Heavy-Duty|Retro|Tilt-Head",
                  "5 litre bowl|10 speeds|three attachments|splash guard", 5.0),
            _type("Dutch Oven", "Enamelled|Cast Iron|Round|Oval|Heritage",
                  "cast iron|enamel coating|oven safe|induction ready|5 litre capacity", 2.2),
            _type("Cutting Board", "Bamboo|Oak|End-Grain|Walnut|Reversible|Non-Slip",
                  "juice groove|non-slip feet|solid hardwood|easy-grip handles", 0.8),
            _type("Coffee Grinder", "Burr|Manual|Electric|Precision|Compact",
                  "conical burrs|18 grind settings|quiet motor|removable chamber", 1.3),
            _type("Toaster", "2-Slice|4-Slice|Retro|Long-Slot|Stainless",
                  "wide slots|defrost setting|crumb tray|7 browning levels", 1.1),
            _type("Saucepan Set", "Stainless|Non-Stick|Copper-Base|Induction|Everyday",
                  "tempered glass lids|induction ready|dishwasher safe|stay-cool handles", 2.4),
            _type("Blender", "High-Speed|Personal|Smoothie|Glass Jug|Compact",
                  "1000 w motor|bpa free jug|pulse setting|ice crushing", 1.8),
        ), ("Matt Black", "Cream", "Sage Green", "Charcoal", "Duck Egg", "Small", "Large", "Gift Box"),
        38.0, 0.65, 1.1,
    ),
    "Garden": CategorySpec(
        ("GreenThumb", "Verdant", "Hedgehog Tools", "Bloomwell", "Rootstock", "Meadowline"), (
            _type("Garden Hose", "Expandable|Heavy-Duty|Kink-Free|Lightweight|Coiled",
                  "15 metre length|brass fittings|spray nozzle|uv resistant", 1.2),
            _type("Pruning Shears", "Bypass|Anvil|Ratchet|Precision|Heavy-Duty",
                  "hardened steel blades|ergonomic grip|safety lock|rust proof", 0.8),
            _type("Planter", "Terracotta|Self-Watering|Hanging|Window Box|Ceramic|Recycled",
                  "drainage holes|frost resistant|uv stable colour|recycled plastic", 0.9),
            _type("Seed Kit", "Herb|Wildflower|Tomato|Salad|Organic|Kids'",
                  "organic seeds|peat-free compost|biodegradable pots|sowing guide", 0.5),
            _type("Wheelbarrow", "Galvanised|Two-Wheel|Folding|Heavy-Duty",
                  "galvanised steel|puncture-proof tyre|100 litre tub|padded grips", 3.0),
            _type("Watering Can", "Galvanised|Indoor|Long-Spout|Classic|Kids'",
                  "rose attachment|galvanised steel|9 litre capacity|balanced handle", 0.8),
            _type("Raised Bed", "Cedar|Galvanised|Modular|Corner|Tiered",
                  "untreated cedar|tool-free assembly|weed membrane|rot resistant", 2.5),
            _type("Lawn Sprinkler", "Oscillating|Rotating|Impulse|Pop-Up",
                  "adjustable spray width|brass nozzle|sled base|timer compatible", 1.0),
            _type("Compost Bin", "Rotating|Wooden|Worm|Kitchen|Recycled",
                  "180 litre capacity|ventilated sides|recycled plastic|easy-access hatch", 1.6),
            _type("Trowel", "Stainless|Transplanting|Ergonomic|Carbon Steel|Wide",
                  "depth markings|hardwood handle|rust proof|hanging loop", 0.4),
        ), ("Small", "Large", "Green", "Slate Grey", "Terracotta", "Pack of 2", "Gift Set", "XL"),
        27.0, 0.7, 0.8,
    ),
    "Toys": CategorySpec(
        ("Playfox", "Tiny Titans", "Wonderblock", "Kazoo Kids", "Marble Moon", "Tinkertown"), (
            _type("Building Set", "Space Station|Castle|City|Creative|Robot|Dinosaur",
                  "500 pieces|ages 6 and up|compatible bricks|illustrated instructions", 1.5),
            _type("Puzzle", "1000-Piece|Wooden|Jigsaw|World Map|Floor|3D",
                  "1000 pieces|poster included|ages 8 and up|recycled card", 0.7),
            _type("Plush Bear", "Cuddly|Giant|Classic|Sleepy|Musical",
                  "ultra-soft fabric|machine washable|suitable from birth|embroidered eyes", 0.8),
            _type("Board Game", "Strategy|Family|Cooperative|Party|Classic|Trivia",
                  "2 to 6 players|ages 8 and up|45 minute games|family game night", 1.3),
            _type("Toy Car", "Remote-Control|Die-Cast|Pull-Back|Racing|Vintage",
                  "rechargeable battery|die-cast metal|ages 5 and up|working lights", 0.9),
            _type("Doll House", "Wooden|Victorian|Modern|Three-Storey|Portable",
                  "sustainable wood|furniture included|ages 3 and up|opening front", 3.0),
            _type("Science Kit", "Chemistry|Crystal-Growing|Volcano|Robotics|Microscope",
                  "stem learning|30 experiments|safety goggles|ages 8 and up", 1.2),
            _type("Train Set", "Wooden|Electric|Classic|Starter|Deluxe",
                  "battery powered engine|wooden track|bridge with tunnel|ages 3 and up", 2.0),
            _type("Craft Kit", "Jewellery|Painting|Knitting|Origami|Pottery",
                  "non-toxic paint|all materials included|ages 6 and up|step-by-step guide", 0.7),
            _type("Kite", "Stunt|Diamond|Delta|Beach|Rainbow",
                  "ripstop nylon|30 metre line|easy launch|carry bag", 0.8),
        ), ("Mini", "Deluxe", "Travel Size", "Red", "Blue", "Junior", "Giant", "Gift Box"),
        24.0, 0.6, 0.9,
    ),
    "Sports": CategorySpec(
        ("Stride", "Apex Athletics", "Pacer", "Ironclad", "Velocity", "Summit Sport"), (
            _type("Running Shoes", "Trail|Road|Cushioned|Lightweight|Racing|Stability",
                  "breathable mesh|shock absorbing sole|reflective details|grippy outsole", 2.0),
            _type("Yoga Mat", "Non-Slip|Extra-Thick|Travel|Cork|Eco",
                  "6 mm cushioning|non-slip grip|carry strap|natural rubber", 0.8),
            _type("Dumbbell Set", "Adjustable|Hex|Neoprene|Compact|Chrome",
                  "adjustable weight|knurled handles|storage rack|rubber coating", 2.5),
            _type("Tennis Racket", "Graphite|Power|Control|Junior|Lightweight",
                  "carbon fibre frame|pre-strung|cover included|cushioned grip", 2.0),
            _type("Football", "Match|Training|Indoor|Street|Mini",
                  "size 5|hand stitched|butyl bladder|all weather", 0.6),
            _type("Cycling Helmet", "Road|Mountain|Commuter|Aero|Kids'",
                  "mips protection|adjustable fit|rear light|vented shell", 1.6),
            _type("Jump Rope", "Speed|Weighted|Beaded|Adjustable",
                  "ball bearings|adjustable length|foam handles|tangle free", 0.3),
            _type("Resistance Bands", "Fabric|Loop|Tube|Heavy|Pilates",
                  "five resistance levels|non-slip fabric|door anchor|carry pouch", 0.5),
            _type("Gym Bag", "Duffel|Waterproof|Compact|Backpack|Weekend",
                  "shoe compartment|wet pocket|padded strap|water repellent", 1.0),
            _type("Water Bottle", "Insulated|Sports|Collapsible|Glass|Filter",
                  "double-wall insulation|leak proof lid|bpa free|750 ml capacity", 0.5),
        ), ("Black", "Navy", "Volt Yellow", "Coral", "Size S", "Size M", "Size L", "Team Edition"),
        42.0, 0.7, 1.0,
    ),
    "Beauty": CategorySpec(
        ("Lumiere", "Petal & Pearl", "Glowry", "Aurelia", "Bare Botanics", "Velvet Skin"), (
            _type("Face Serum", "Vitamin C|Hyaluronic|Retinol|Brightening|Calming",
                  "hyaluronic acid|vitamin c|fragrance free|dermatologist tested|vegan formula", 1.5),
            _type("Moisturiser", "Daily|Rich|Oil-Free|Night|Tinted",
                  "spf 30|ceramides|fragrance free|non-comedogenic", 1.1),
            _type("Lipstick", "Matte|Satin|Long-Wear|Sheer|Velvet",
                  "long wearing|vitamin e|cruelty free|creamy finish", 0.8),
            _type("Shampoo", "Volumising|Repair|Gentle|Clarifying|Curl",
                  "sulphate free|argan oil|vegan formula|colour safe", 0.6),
            _type("Eye Palette", "Nude|Smoky|Warm|Bold|Everyday",
                  "12 shades|matte plus shimmer shades|mirror included|cruelty free", 1.4),
            _type("Sunscreen", "Mineral|Sport|Daily|Tinted|Kids'",
                  "spf 50|water resistant|reef friendly|non-greasy", 0.9),
            _type("Perfume", "Floral|Citrus|Woody|Amber|Fresh",
                  "eau de parfum|50 ml bottle|long lasting|gift box", 2.8),
            _type("Face Mask", "Clay|Sheet|Overnight|Hydrating|Purifying",
                  "kaolin clay|hyaluronic acid|vegan formula|single use", 0.6),
            _type("Hair Oil", "Argan|Nourishing|Lightweight|Repair|Scalp",
                  "argan oil|heat protection|frizz control|glass dropper", 0.9),
            _type("Cleanser", "Gentle|Foaming|Oil|Micellar|Gel",
                  "ph balanced|fragrance free|removes makeup|dermatologist tested", 0.7),
        ), ("Travel Size", "50 ml", "100 ml", "Refill", "Duo Pack", "Gift Set", "Limited Edition",
            "Sensitive"),
        22.0, 0.7, 1.0,
    ),
    "Grocery": CategorySpec(
        ("Farmhouse", "Golden Grain", "Orchard Lane", "Pantry Co", "Sunny Acres", "Bean Street"), (
            _type("Coffee Beans", "Espresso|Single-Origin|Decaf|Breakfast|Dark Roast|Organic",
                  "single origin|whole bean|fair trade|roasted weekly", 1.8),
            _type("Olive Oil", "Extra Virgin|Organic|Cold-Pressed|Greek|Spanish",
                  "cold pressed|first harvest|dark glass bottle|500 ml bottle", 1.6),
            _type("Pasta", "Durum Wheat|Wholewheat|Fresh|Gluten-Free|Bronze-Cut",
                  "bronze cut|slow dried|500 g pack|italian wheat", 0.4),
            _type("Granola", "Honey Almond|Berry|Low-Sugar|Chocolate|Nutty",
                  "wholegrain oats|no added sugar|high fibre|500 g pack", 0.8),
            _type("Dark Chocolate", "70%|85%|Sea Salt|Orange|Single-Origin",
                  "fair trade cocoa|vegan|small batch|100 g bar", 0.5),
            _type("Green Tea", "Sencha|Jasmine|Matcha|Mint|Organic",
                  "loose leaf|organic leaves|40 tea bags|light caffeine", 0.8),
            _type("Honey", "Wildflower|Manuka|Raw|Acacia|Creamed",
                  "raw unfiltered honey|local beekeepers|glass jar|340 g jar", 1.1),
            _type("Rice", "Basmati|Jasmine|Arborio|Wholegrain|Sushi",
                  "aged grains|1 kg bag|non gmo|resealable bag", 0.6),
            _type("Hot Sauce", "Habanero|Chipotle|Sriracha|Mild|Ghost Pepper",
                  "small batch|no preservatives|glass bottle|150 ml bottle", 0.8),
            _type("Peanut Butter", "Crunchy|Smooth|Organic|Salt-Free|High-Protein",
                  "100 % peanuts|no palm oil|high protein|340 g jar", 0.6),
        ), ("Family Size", "Twin Pack", "Multipack", "Large", "Small", "Value Pack", "Gift Tin",
            "Refill"),
        7.5, 0.5, 1.2,
    ),
    "Fashion": CategorySpec(
        ("Maison Lark", "Threadbare", "Urban Loom", "Coastline", "Norde", "Silk Route"), (
            _type("Denim Jacket", "Classic|Oversized|Cropped|Sherpa-Lined|Vintage",
                  "stretch denim|organic cotton|button front|relaxed fit", 1.3),
            _type("Sneakers", "Leather|Canvas|Retro|High-Top|Minimal",
                  "cushioned insole|rubber sole|recycled laces|genuine leather", 1.4),
            _type("Wool Scarf", "Merino|Cashmere-Blend|Chunky|Tartan|Lightweight",
                  "merino wool|fringed ends|hand finished|extra long", 0.6),
            _type("Summer Dress", "Floral|Linen|Wrap|Maxi|Midi",
                  "linen blend|adjustable straps|side pockets|breathable fabric", 1.1),
            _type("Leather Belt", "Classic|Braided|Reversible|Western|Slim",
                  "genuine leather|brass buckle|hand stitched|gift box", 0.6),
            _type("Handbag", "Leather|Crossbody|Tote|Mini|Structured",
                  "genuine leather|adjustable strap|zip closure|inside pockets", 1.8),
            _type("Chinos", "Slim-Fit|Relaxed|Tapered|Stretch|Cropped",
                  "stretch cotton|slim fit|button fly|water repellent", 1.0),
            _type("Knit Sweater", "Merino|Cable-Knit|Crew-Neck|Roll-Neck|Oversized",
                  "merino wool|ribbed cuffs|recycled fibres|relaxed fit", 1.2),
            _type("Sunglasses", "Aviator|Round|Polarised|Cat-Eye|Sport",
                  "uv400 protection|polarised lenses|acetate frame|case included", 1.0),
            _type("Ankle Boots", "Chelsea|Leather|Suede|Lace-Up|Heeled",
                  "genuine leather|cushioned footbed|rubber sole|water repellent", 2.0),
        ), ("Black", "Navy", "Camel", "Olive", "Stone", "Burgundy", "Petite", "Tall"),
        55.0, 0.7, 1.1,
    ),
    "Home": CategorySpec(
        ("Nestwell", "Hearth & Co", "Linenhaus", "Lumen Living", "Driftwood", "Casa Calma"), (
            _type("Throw Blanket", "Cosy|Knitted|Faux-Fur|Waffle|Chunky",
                  "machine washable|130 x 170 cm|recycled fibres|soft touch", 0.9),
            _type("Table Lamp", "Minimalist|Ceramic|Brass|Mushroom|Industrial",
                  "dimmable led|linen shade|touch control|usb port", 1.3),
            _type("Scented Candle", "Lavender|Fig|Sea Salt|Cedarwood|Vanilla",
                  "soy wax|cotton wick|40 hour burn|glass jar", 0.5),
            _type("Cushion", "Velvet|Linen|Boucle|Embroidered|Outdoor",
                  "feather filling|removable cover|velvet finish|45 x 45 cm", 0.5),
            _type("Wall Clock", "Scandinavian|Station|Minimalist|Oak|Silent",
                  "silent sweep movement|solid oak|30 cm face|battery included", 0.8),
            _type("Rug", "Hand-Woven|Jute|Wool|Washable|Geometric",
                  "hand woven|non-slip backing|160 x 230 cm|natural jute", 2.4),
            _type("Bed Linen Set", "Linen|Cotton Percale|Sateen|Striped|Washed",
                  "stonewashed linen|oxford pillowcases|machine washable|double size", 1.6),
            _type("Vase", "Ceramic|Glass|Bud|Stoneware|Sculptural",
                  "recycled glass|handmade|watertight|matte glaze", 0.6),
            _type("Bookshelf", "Oak|Ladder|Modular|Wall-Mounted|Corner",
                  "solid oak|five shelves|wall fixings included|easy assembly", 3.5),
            _type("Storage Basket", "Seagrass|Woven|Felt|Rope|Lidded",
                  "hand woven|sturdy handles|foldable|set of two", 0.6),
        ), ("Small", "Large", "Natural", "Charcoal", "Ivory", "Sage", "Terracotta", "Set of 2"),
        45.0, 0.75, 1.0,
    ),
    "Outdoors": CategorySpec(
        ("Trailhead", "Northface Ridge", "Basecamp", "Wildpine", "Summitline", "Ranger & Co"), (
            _type("Tent", "2-Person|4-Person|Ultralight|Pop-Up|Family",
                  "waterproof seams|ripstop nylon|three season|quick pitch", 2.2),
            _type("Hiking Backpack", "30-Litre|50-Litre|Ultralight|Daypack|Trekking",
                  "rain cover|ventilated back|hydration sleeve|hip belt pockets", 1.3),
            _type("Sleeping Bag", "Down|Three-Season|Mummy|Compact|Summer",
                  "down insulation|comfort to 0 °C|compression sack|two-way zip", 1.4),
            _type("Headlamp", "Rechargeable|Compact|Trail|Red-Light|Bright",
                  "400 lumens|usb-c charging|red night mode|water resistant", 0.4),
            _type("Camping Stove", "Compact|Two-Burner|Backpacking|Wood-Burning",
                  "piezo ignition|wind shield|carry case|fold-out legs", 0.9),
            _type("Trekking Poles", "Carbon|Folding|Telescopic|Aluminium",
                  "carbon fibre|cork grips|quick locks|snow baskets", 0.9),
            _type("Rain Jacket", "Waterproof|Packable|Lightweight|Insulated|Hooded",
                  "gore tex membrane|taped seams|packs into its pocket|adjustable hood", 1.6),
            _type("Hammock", "Camping|Double|Ultralight|Mosquito-Net",
                  "ripstop nylon|tree straps included|200 kg load|stuff sack", 0.6),
            _type("Cooler Box", "Rolling|Soft|Hard-Shell|Compact|Electric",
                  "keeps ice for 3 days|35 litre capacity|drain plug|shoulder strap", 1.2),
            _type("Hiking Boots", "Waterproof|Leather|Lightweight|Mid-Cut|Winter",
                  "gore tex membrane|vibram sole|ankle support|waterproof leather", 2.0),
        ), ("Olive", "Black", "Navy", "Rust", "Sand", "Men's", "Women's", "Junior"),
        65.0, 0.75, 0.9,
    ),
    "Music": CategorySpec(
        ("Resonance", "Stagecraft", "Bluenote Audio", "Harmonix", "Fretwell", "Soundwave"), (
            _type("Acoustic Guitar", "Dreadnought|Parlour|Classical|Electro-Acoustic|Travel",
                  "solid spruce top|gig bag included|rosewood fingerboard|built-in tuner", 2.5),
            _type("Vinyl Record", "Jazz|Classic Rock|Soul|Soundtrack|Indie|Ambient",
                  "180 gram vinyl|gatefold sleeve|remastered|download code", 0.4),
            _type("Keyboard", "61-Key|88-Key|Portable|Weighted|Stage",
                  "weighted keys|built-in speakers|usb midi|sustain pedal", 3.0),
            _type("Ukulele", "Soprano|Concert|Tenor|Mahogany|Travel",
                  "mahogany body|nylon strings|gig bag included|clip-on tuner", 0.8),
            _type("Drum Pad", "Practice|Electronic|Sampling|Compact",
                  "mesh heads|usb midi|headphone output|built-in metronome", 1.5),
            _type("Microphone", "USB|Condenser|Dynamic|Studio|Podcast",
                  "cardioid pickup|usb audio|shock mount|pop filter", 1.2),
            _type("Guitar Strings", "Acoustic|Electric|Nylon|Light-Gauge|Coated",
                  "nickel wound|phosphor bronze|long lasting|set of six", 0.15),
            _type("Studio Monitor", "5-Inch|Active|Nearfield|Compact|Bluetooth",
                  "bi-amplified|balanced inputs|room correction|sold as a pair", 2.5),
            _type("Violin", "Student|Full-Size|Handcrafted|Electric|Three-Quarter",
                  "solid spruce top|bow with rosin|hard case included|ebony fittings", 2.5),
            _type("Audio Interface", "2-Channel|USB|Compact|Studio|Podcast",
                  "usb audio|low latency|phantom power|24-bit 192 khz", 2.0),
        ), ("Natural", "Black", "Sunburst", "White", "Left-Handed", "Bundle", "Limited Edition",
            "Starter Pack"),
        70.0, 0.95, 0.7,
    ),
    "Pets": CategorySpec(
        ("Happy Paws", "Furbridge", "Whisker & Tail", "Barkley", "Petwell", "Nibbles"), (
            _type("Dog Food", "Grain-Free|Puppy|Senior|Salmon|Chicken",
                  "real chicken|grain free|vet approved|2 kg bag", 1.6),
            _type("Cat Tree", "Tall|Compact|Wall-Mounted|Modern|Multi-Level",
                  "sisal scratching posts|plush hideaway|stable base|easy assembly", 3.0),
            _type("Pet Bed", "Orthopedic|Donut|Washable|Raised|Cave",
                  "memory foam|machine washable cover|non-slip base|water resistant", 2.0),
            _type("Chew Toy", "Rubber|Rope|Treat-Dispensing|Squeaky|Tough",
                  "natural rubber|dishwasher safe|dental ridges|non-toxic", 0.5),
            _type("Leash", "Reflective|Retractable|Rope|Leather|Hands-Free",
                  "reflective strap|padded handle|5 metre length|strong clip", 0.7),
            _type("Litter Box", "Hooded|Self-Cleaning|Corner|Top-Entry",
                  "odour control|carbon filter|easy-clean liner|scoop included", 1.4),
            _type("Bird Feeder", "Hanging|Window|Squirrel-Proof|Wooden|Seed",
                  "squirrel proof|weather resistant|easy refill|hanging chain", 0.9),
            _type("Aquarium Filter", "Internal|External|Silent|Sponge|Nano",
                  "three-stage filtration|quiet pump|adjustable flow|spare cartridge", 1.3),
            _type("Grooming Brush", "Slicker|Deshedding|Bristle|Self-Cleaning|Glove",
                  "stainless pins|ergonomic grip|self-cleaning button|for long coats", 0.6),
            _type("Cat Treats", "Salmon|Chicken|Dental|Crunchy|Freeze-Dried",
                  "real chicken|grain free|resealable pouch|high protein", 0.3),
        ), ("Small", "Medium", "Large", "XL", "Blue", "Grey", "Twin Pack", "Value Pack"),
        18.0, 0.7, 0.8,
    ),
    "Office": CategorySpec(
        ("Paperlane", "Deskworks", "Inkwell", "Studio Nine", "Ledger & Co", "Brightdesk"), (
            _type("Notebook", "Dotted|Lined|Hardcover|Pocket|Softcover",
                  "dotted pages|recycled paper|lay-flat binding|ribbon marker", 0.7),
            _type("Fountain Pen", "Classic|Brass|Calligraphy|Pocket|Demonstrator",
                  "refillable ink|steel nib|converter included|gift box", 1.6),
            _type("Desk Organiser", "Bamboo|Wooden|Mesh|Modular|Felt",
                  "bamboo finish|five compartments|phone slot|cable management", 0.9),
            _type("Office Chair", "Ergonomic|Mesh|Executive|Task|Kneeling",
                  "lumbar support|adjustable height|breathable mesh|5 year warranty", 8.0),
            _type("Planner", "Weekly|Daily|Undated|Academic|Goal",
                  "undated pages|monthly overviews|ribbon markers|recycled paper", 0.9),
            _type("Stapler", "Heavy-Duty|Mini|Electric|Long-Reach",
                  "staples included|jam-free mechanism|metal body|25 sheet capacity", 0.6),
            _type("Monitor Stand", "Bamboo|Aluminium|Adjustable|Dual|Drawer",
                  "adjustable height|cable management|bamboo finish|storage drawer", 1.5),
            _type("Desk Lamp", "LED|Architect|Clamp|Wireless-Charging|Minimal",
                  "dimmable led|adjustable arm|usb port|eye-care light", 1.6),
            _type("Whiteboard", "Magnetic|Glass|Mobile|Desktop|Cork-Combo",
                  "magnetic surface|marker tray|wall fixings|dry erase", 1.5),
            _type("Filing Box", "Archive|Fabric|Cardboard|Lockable|Stackable",
                  "a4 size|lid included|recycled board|label holder", 0.8),
        ), ("A5", "A4", "Black", "Navy", "Sage", "Twin Pack", "Gift Set", "Large"),
        19.0, 0.8, 0.8,
    ),
}


def product_type(category: str, name: str) -> ProductType | None:
    """The type of a product named ``name`` in ``category`` (its noun appears in the name), or
    None for a product this generator did not make."""
    spec = CATEGORIES.get(category)
    if spec is None:
        return None
    base = name.split(" (", 1)[0]  # without the variant: "... Guitar Strings (Bundle)"
    by_length = sorted(spec.types, key=lambda t: -len(t.noun))
    return (next((t for t in by_length if base.endswith(t.noun)), None)  # "Acoustic Guitar Strings"
            or next((t for t in by_length if t.noun in name), None))


# Sequential intent: a shopper who views one of these devices goes on to its accessories, in
# this order and never before it ("accessory after device"): the rest of the session, and
# often the next session in that category. Each device has one compatible accessory per
# step, of its own brand where the catalogue has one.
ACCESSORIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("Electronics", "Tablet"): ("Charger", "Power Bank"),
    ("Electronics", "Smartwatch"): ("Charger",),
    ("Electronics", "Action Camera"): ("Power Bank",),
    ("Kitchen", "Chef's Knife"): ("Cutting Board",),
    ("Kitchen", "Coffee Grinder"): ("Kettle",),
    ("Garden", "Raised Bed"): ("Seed Kit", "Trowel", "Watering Can"),
    ("Garden", "Garden Hose"): ("Lawn Sprinkler",),
    ("Sports", "Tennis Racket"): ("Gym Bag", "Water Bottle"),
    ("Sports", "Dumbbell Set"): ("Resistance Bands", "Yoga Mat"),
    ("Beauty", "Cleanser"): ("Face Serum", "Moisturiser"),
    ("Fashion", "Chinos"): ("Leather Belt",),
    ("Fashion", "Summer Dress"): ("Sunglasses",),
    ("Home", "Bed Linen Set"): ("Cushion", "Throw Blanket"),
    ("Home", "Bookshelf"): ("Storage Basket",),
    ("Outdoors", "Tent"): ("Sleeping Bag", "Headlamp"),
    ("Outdoors", "Hiking Boots"): ("Trekking Poles",),
    ("Music", "Acoustic Guitar"): ("Guitar Strings",),
    ("Music", "Microphone"): ("Audio Interface", "Studio Monitor"),
    ("Pets", "Cat Tree"): ("Cat Treats",),
    ("Pets", "Pet Bed"): ("Chew Toy",),
    ("Office", "Office Chair"): ("Monitor Stand", "Desk Lamp"),
    ("Office", "Fountain Pen"): ("Notebook",),
}
_INTENT_P = 0.8  # a session with a device view goes on to its accessories
_FOLLOW_UP_P = 0.6  # accessories left over open the shopper's next session in that category
_INTENT_SESSIONS_MARGIN = 1.1  # more sessions drawn, for the views the intent ends early

# Named demo shoppers: user ids 1..5, documented tastes (categories, price band z: -1 cheap..+1 premium).
NAMED_SHOPPERS: list[dict] = [
    {"username": "alice", "name": "Alice Moreau", "categories": ("Books", "Kitchen"), "price_band": 0.3},
    {"username": "bob", "name": "Bob Okafor", "categories": ("Sports", "Outdoors"), "price_band": 0.6},
    {"username": "carol", "name": "Carol Lindqvist", "categories": ("Beauty", "Fashion"), "price_band": 0.8},
    {"username": "dave", "name": "Dave Tanaka", "categories": ("Electronics", "Music"), "price_band": -0.2},
    {"username": "erin", "name": "Erin Walsh", "categories": ("Garden", "Pets"), "price_band": -0.6},
]

# Funnel and rating parameters.
_VIEWS_PER_SESSION_P = 0.38  # views per session: 1 + Geometric; mean ~2.6
_RATE_PROBABILITY = 0.45
_EXPLORE = 0.12  # share of a generic shopper's sessions outside the favourite categories
_NAMED_EXPLORE = 0.05
_BRAND_BOOST = 6.0
_PRICE_WIDTH = 0.7  # in units of the category's price sigma
# Events per view (cart + purchase + rating rates), a little low so enough are generated.
_EVENTS_PER_VIEW = 1.12


FIRST_NAMES = ("Amara", "Ben", "Chloe", "Diego", "Elif", "Finn", "Grace", "Hugo", "Ines", "Jonas",
               "Kira", "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tara",
               "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Camille", "Dmitri",
               "Esme", "Felix", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Mateo", "Nora", "Oscar")
LAST_NAMES = ("Adams", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito",
              "Jansen", "Kowalski", "Larsen", "Murphy", "Nakamura", "Oliveira", "Patel", "Quinn",
              "Rossi", "Schmidt", "Turner", "Novak", "Varga", "Weber", "Young", "Zhang", "Mensah",
              "Haddad", "Silva", "Kim", "Moreno")
STREETS = ("Elm Street", "Harbour Road", "Mill Lane", "Station Road", "Orchard Way", "Church Street",
           "Park Avenue", "Willow Close", "King's Road", "Riverside", "Market Square", "Hill Crescent")
TOWNS = ("Bristol BS1", "Leeds LS2", "York YO1", "Bath BA1", "Brighton BN1", "Oxford OX1",
         "Norwich NR2", "Exeter EX4", "Chester CH1", "Durham DH1")


@dataclass
class DemoData:
    events: pd.DataFrame  # import format
    products: pd.DataFrame  # import format
    shoppers: pd.DataFrame  # user_id, username, first/last name, email, address, tastes
    orders: pd.DataFrame  # order lines of the purchases: order_id, user_id, timestamp, product_id, quantity, unit_price
    # The planted "accessory after device" views (empty without the sequential intent): user_id,
    # device_id, accessory_id, step (0: the device's first accessory), follow_up (in a later
    # session), device_time, accessory_time; only pairs whose two views are in ``events``.
    intents: pd.DataFrame


def default_end() -> float:
    """Midnight UTC of today, as unix seconds (so a day's runs produce the same data)."""
    today = pd.Timestamp.now(tz="UTC").normalize()
    return float(today.timestamp())


# --------------------------------------------------------------------------------------------
# Catalogue


class _Names:
    """Unique product names without serial numbers: brand, adjective and type first; another
    adjective of the type, then a variant (colour, size, edition) when that name is taken."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, brand: str, kind: ProductType, adj: int, variants: tuple[str, ...],
             variant: int) -> tuple[str, str]:
        adjectives = kind.adjectives
        order = [adjectives[(adj + k) % len(adjectives)] for k in range(len(adjectives))]
        for adjective in order:
            name = f"{brand} {adjective} {kind.noun}"
            if name not in self.used:
                self.used.add(name)
                return name, adjective
        edition = 1
        while True:
            for k in range(len(variants)):
                suffix = variants[(variant + k) % len(variants)]
                if edition > 1:
                    suffix += f", edition {edition}"  # only past ~60 of one brand's type
                for adjective in order:
                    name = f"{brand} {adjective} {kind.noun} ({suffix})"
                    if name not in self.used:
                        self.used.add(name)
                        return name, adjective
            edition += 1


def make_catalogue(n_products: int, rng: np.random.Generator) -> pd.DataFrame:
    """Products with hidden columns ``popularity``, ``quality``, ``brand_idx``, ``price_z``
    (the price's z-score within its type) and ``type_noun`` (all dropped for import)."""
    names = list(CATEGORIES)
    weights = np.array([CATEGORIES[c].weight for c in names])
    share = n_products * weights / weights.sum()
    counts = np.floor(share).astype(int)
    rest = n_products - counts.sum()
    counts[np.argsort(-(share - counts), kind="stable")[:rest]] += 1  # exactly n_products
    frames = []
    next_id = 1
    unique = _Names()
    for cat, n in zip(names, counts):
        spec = CATEGORIES[cat]
        brand_w = 1.0 / np.arange(1, len(spec.brands) + 1) ** 0.7
        brand_idx = rng.choice(len(spec.brands), size=n, p=brand_w / brand_w.sum())
        type_idx = rng.integers(len(spec.types), size=n)
        adj_draw = rng.integers(1 << 30, size=n)
        variant_draw = rng.integers(1 << 30, size=n)
        attr_keys = rng.random((n, max(len(t.attributes) for t in spec.types)))
        quality = rng.normal(0, 1, size=n)
        z = rng.normal(0, 1, size=n)
        type_median = spec.median_price * np.array([spec.types[t].price_factor for t in type_idx])
        price = np.exp(np.log(type_median) + spec.price_sigma * z + 0.1 * quality)
        price = np.round(np.maximum(price, 0.99), 2) - np.where(rng.random(n) < 0.6, 0.01, 0.0)
        # Popularity: a Zipf-like skew within the category, nudged by quality.
        rank = rng.permutation(n) + 1
        popularity = (1.0 / rank**0.85) * np.exp(0.25 * quality)
        rows_name, rows_desc = [], []
        for i in range(n):
            brand, kind = spec.brands[brand_idx[i]], spec.types[type_idx[i]]
            name, adj = unique.take(brand, kind, int(adj_draw[i]), spec.variants, int(variant_draw[i]))
            picked = np.argsort(attr_keys[i, : len(kind.attributes)], kind="stable")[:3]
            a1, a2, a3 = (kind.attributes[j] for j in picked)
            tier = "premium" if price[i] > type_median[i] * 1.6 else (
                "budget-friendly" if price[i] < type_median[i] / 1.6 else "mid-range")
            rows_name.append(name)
            rows_desc.append(f"{adj} {kind.noun.lower()} by {brand}. Features: {a1}, {a2} and {a3}. "
                             f"A {tier} pick in our {cat.lower()} range.")
        frames.append(pd.DataFrame({
            "product_id": np.arange(next_id, next_id + n, dtype=np.int64),
            "name": rows_name,
            "description": rows_desc,
            "category": cat,
            "brand": [spec.brands[b] for b in brand_idx],
            "price": price,
            "popularity": popularity,
            "quality": quality,
            "brand_idx": brand_idx,
            "price_z": (np.log(price) - np.log(type_median)) / spec.price_sigma,
            "type_noun": [spec.types[t].noun for t in type_idx],
        }))
        next_id += n
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Shoppers


def make_shoppers(n_users: int, rng: np.random.Generator) -> pd.DataFrame:
    """Hidden tastes: favourite categories with mixture weights, preferred brand indexes per
    favourite category, a price band, an activity level."""
    names = list(CATEGORIES)
    cat_w = np.array([CATEGORIES[c].weight for c in names])
    cat_p = cat_w / cat_w.sum()
    rows = []
    for uid in range(1, n_users + 1):
        named = NAMED_SHOPPERS[uid - 1] if uid <= len(NAMED_SHOPPERS) else None
        if named:
            cats = list(named["categories"])
            mix = np.full(len(cats), 1.0 / len(cats))
            band = named["price_band"]
            username = named["username"]
            activity = None  # set below: a rich history
        else:
            k = rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25])
            cats = list(rng.choice(names, size=k, replace=False, p=cat_p))
            mix = rng.dirichlet(np.full(k, 2.0))
            band = float(np.clip(rng.normal(0, 0.7), -1.8, 1.8))
            username = f"shopper{uid:05d}"
            activity = float(rng.lognormal(0, 0.8))
        brands = []
        for c in cats:
            n_brands = len(CATEGORIES[c].brands)
            take = 1 if named or rng.random() < 0.5 else 2
            brands.append(tuple(int(b) for b in rng.choice(n_brands, size=take, replace=False)))
        rows.append({
            "user_id": uid, "username": username, "categories": tuple(cats),
            "weights": tuple(float(w) for w in mix), "brands": tuple(brands),
            "price_band": band, "activity": activity, "named": bool(named),
        })
    shoppers = pd.DataFrame(rows)
    shoppers = pd.concat([shoppers, _identities(shoppers["user_id"].to_numpy(), rng)], axis=1)
    generic = shoppers.loc[~shoppers["named"], "activity"]
    named_activity = (3.0 * generic.mean()) if len(generic) else 1.0
    shoppers["activity"] = shoppers["activity"].fillna(named_activity).astype(float)
    return shoppers


def _identities(user_ids: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Names, emails and addresses, from a stream of their own (so they leave tastes alone)."""
    names_rng = np.random.default_rng(rng.integers(1 << 62))
    n = len(user_ids)
    first = names_rng.choice(FIRST_NAMES, size=n)
    last = names_rng.choice(LAST_NAMES, size=n)
    number = names_rng.integers(1, 120, size=n)
    street = names_rng.choice(STREETS, size=n)
    town = names_rng.choice(TOWNS, size=n)
    rows = []
    for i, uid in enumerate(user_ids):
        named = NAMED_SHOPPERS[uid - 1] if uid <= len(NAMED_SHOPPERS) else None
        given, family = named["name"].split(" ", 1) if named else (str(first[i]), str(last[i]))
        email = f"{named['username']}@example.com" if named else f"{given}.{family}.{uid}@example.com".lower()
        rows.append({"first_name": given, "last_name": family, "email": email,
                     "address": f"{number[i]} {street[i]}\n{town[i]}"})
    return pd.DataFrame(rows)


def _orders(purchases: pd.DataFrame, prices: pd.Series) -> pd.DataFrame:
    """One order per shopping session with purchases: its lines are the session's purchase
    events (a product bought twice in one session is one line), placed at the last of them."""
    if purchases.empty:
        return pd.DataFrame(columns=["order_id", "user_id", "timestamp", "product_id", "quantity",
                                     "unit_price"])
    lines = (purchases.groupby(["session", "user_id", "product_id"], sort=False)
             .agg(quantity=("value", "sum"), timestamp=("timestamp", "max")).reset_index())
    placed = lines.groupby("session")["timestamp"].transform("max")
    lines = lines.assign(timestamp=placed).sort_values(["timestamp", "session", "product_id"], kind="stable")
    lines["order_id"] = pd.factorize(lines["session"])[0] + 1
    lines["quantity"] = lines["quantity"].astype(np.int64)
    lines["unit_price"] = prices.reindex(lines["product_id"]).to_numpy()
    return lines[["order_id", "user_id", "timestamp", "product_id", "quantity", "unit_price"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Behaviour


def _sample_sessions(shoppers: pd.DataFrame, n_sessions: int, rng: np.random.Generator):
    names = list(CATEGORIES)
    cat_index = {c: i for i, c in enumerate(names)}
    cat_w = np.array([CATEGORIES[c].weight for c in names])
    act = shoppers["activity"].to_numpy()
    users = rng.choice(len(shoppers), size=n_sessions, p=act / act.sum())
    # Always give every shopper at least two sessions.
    users[: 2 * len(shoppers)] = np.repeat(np.arange(len(shoppers)), 2)[:n_sessions]
    cats = np.empty(n_sessions, dtype=np.int64)
    order = np.argsort(users, kind="stable")
    bounds = np.searchsorted(users[order], np.arange(len(shoppers) + 1))
    base = cat_w / cat_w.sum()
    tastes = zip(shoppers["named"].tolist(), shoppers["categories"].tolist(),
                 shoppers["weights"].tolist())
    for u, (named, categories, weights) in enumerate(tastes):
        idx = order[bounds[u] : bounds[u + 1]]
        if not len(idx):
            continue
        explore = _NAMED_EXPLORE if named else _EXPLORE
        p = explore * base
        for c, w in zip(categories, weights):
            p[cat_index[c]] += (1 - explore) * w
        cats[idx] = rng.choice(len(names), size=len(idx), p=p / p.sum())
    return users, cats


def _accessory_table(catalogue: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Per catalogue row, the rows of its compatible accessories in ``ACCESSORIES`` order
    (-1 padded; all -1 for a row that is no device): one product of each accessory type, of
    the device's brand where there is one, drawn by popularity."""
    n = len(catalogue)
    table = np.full((n, max(len(a) for a in ACCESSORIES.values())), -1, dtype=np.int64)
    category = catalogue["category"].to_numpy()
    noun = catalogue["type_noun"].to_numpy()
    brand = catalogue["brand_idx"].to_numpy()
    popularity = catalogue["popularity"].to_numpy()
    for (cat, device), accessories in ACCESSORIES.items():
        in_cat = category == cat
        devices = np.flatnonzero(in_cat & (noun == device))
        for step, accessory in enumerate(accessories):
            candidates = np.flatnonzero(in_cat & (noun == accessory))
            if not len(devices) or not len(candidates):
                break  # a small catalogue without this type: the chain stops here
            for d in devices:
                same_brand = candidates[brand[candidates] == brand[d]]
                pool = same_brand if len(same_brand) else candidates
                w = popularity[pool]
                table[d, step] = pool[rng.choice(len(pool), p=w / w.sum())]
    return table


def _plant_intent(table: np.ndarray, v_product: np.ndarray, v_time: np.ndarray,
                  n_views: np.ndarray, users: np.ndarray, cats: np.ndarray,
                  s_start: np.ndarray, rng: np.random.Generator):
    """Rewrite sessions so that a device view is followed by its accessories, in order.

    A session's first device view (with probability ``_INTENT_P``) is followed by the
    device's accessories, one a view, and the session ends with the last of them; the
    accessories left over open, with probability ``_FOLLOW_UP_P``, the shopper's next session
    in that category (which then drops later views of the device or of those accessories).
    An accessory of the device viewed before it in the session becomes a view of the device.
    So within a planted pair the accessory always comes after its device.

    Returns the new products per view, which views to keep, and the planted pairs as view
    indexes (device view, accessory view, step, follow-up).
    """
    total = len(v_product)
    n_sessions = len(n_views)
    first = np.r_[0, np.cumsum(n_views)[:-1]]
    session = np.repeat(np.arange(n_sessions), n_views)
    idx = np.arange(total)
    chain_len = (table >= 0).sum(axis=1)

    marked = np.where(chain_len[v_product] > 0, idx, total)
    device_view = np.minimum.reduceat(marked, first)  # total where the session has no device
    intent = (device_view < total) & (rng.random(n_sessions) < _INTENT_P)
    device = np.where(intent, v_product[np.minimum(device_view, total - 1)], -1)
    length = np.where(intent, chain_len[np.maximum(device, 0)], 0)
    done = np.minimum(first + n_views - 1 - device_view, length)  # accessories seen in-session

    # The shopper's next session in the same category, if it starts after this one ended.
    order = np.lexsort((s_start, cats, users))
    following = np.full(n_sessions, -1)
    same = (users[order][1:] == users[order][:-1]) & (cats[order][1:] == cats[order][:-1])
    following[order[:-1][same]] = order[1:][same]
    ends = v_time[first + n_views - 1]
    target = np.maximum(following, 0)
    follow = (intent & (done < length) & (following >= 0) & ~intent[target]
              & (s_start[target] > ends) & (rng.random(n_sessions) < _FOLLOW_UP_P))
    fu_device = np.full(n_sessions, -1)
    fu_offset = np.zeros(n_sessions, dtype=np.int64)
    fu_device_view = np.full(n_sessions, -1)
    fu_device[following[follow]] = device[follow]
    fu_offset[following[follow]] = done[follow]
    fu_device_view[following[follow]] = device_view[follow]

    new = v_product.copy()
    keep = np.ones(total, dtype=bool)
    s_device = device[session]
    chain = table[np.maximum(s_device, 0)]
    step = idx - device_view[session] - 1
    in_intent = s_device >= 0
    planted = in_intent & (step >= 0) & (step < chain_len[np.maximum(s_device, 0)])
    new[planted] = chain[planted, step[planted]]
    keep[in_intent & (step >= chain_len[np.maximum(s_device, 0)])] = False
    before = in_intent & (step < -1) & (chain == v_product[:, None]).any(axis=1)
    new[before] = s_device[before]

    f_device = fu_device[session]
    f_chain = table[np.maximum(f_device, 0)]
    k = fu_offset[session] + idx - first[session]
    in_follow = f_device >= 0
    f_planted = in_follow & (k < chain_len[np.maximum(f_device, 0)])
    new[f_planted] = f_chain[f_planted, k[f_planted]]
    clash = (v_product == f_device) | (f_chain == v_product[:, None]).any(axis=1)
    keep[in_follow & ~f_planted & clash] = False

    pairs = pd.DataFrame({
        "device_view": np.r_[device_view[session[planted]], fu_device_view[session[f_planted]]],
        "accessory_view": np.r_[idx[planted], idx[f_planted]],
        "step": np.r_[step[planted], k[f_planted]],
        "follow_up": np.r_[np.zeros(planted.sum(), dtype=bool), np.ones(f_planted.sum(), dtype=bool)],
    })
    return new, keep, pairs


def generate(n_users: int = 1000, n_events: int = 100_000, n_products: int = 2400,
             seed: int = 42, end: float | None = None, days: int = DAYS,
             sequential_intent: bool = True) -> DemoData:
    """Seeded demo data: same arguments -> identical frames. ``sequential_intent=False`` gives
    the data of earlier versions (sessions without accessories after devices)."""
    if n_users < len(NAMED_SHOPPERS):
        raise ValueError(f"n_users must be at least {len(NAMED_SHOPPERS)}")
    if n_products < len(CATEGORIES):
        raise ValueError(f"n_products must be at least {len(CATEGORIES)} (one per category)")
    rng = np.random.default_rng(seed)
    end = default_end() if end is None else float(end)
    start = end - days * 86400.0
    catalogue = make_catalogue(n_products, rng)
    shoppers = make_shoppers(n_users, rng)
    names = list(CATEGORIES)

    # Per category: product rows, log-price z-scores, popularity, brand indexes.
    by_cat = {}
    for ci, c in enumerate(names):
        rows = np.flatnonzero(catalogue["category"].to_numpy() == c)
        z = catalogue["price_z"].to_numpy()[rows]
        by_cat[ci] = (rows, z, catalogue["popularity"].to_numpy()[rows],
                      catalogue["brand_idx"].to_numpy()[rows])

    # Views per event: 1 + cart + purchase + rating; aim a little high, trim to n_events below.
    n_sessions = max(2 * n_users, int(n_events * _VIEWS_PER_SESSION_P / _EVENTS_PER_VIEW) + 1)
    if sequential_intent:
        n_sessions = int(n_sessions * _INTENT_SESSIONS_MARGIN)  # it ends some sessions early
    users, cats = _sample_sessions(shoppers, n_sessions, rng)
    n_views = 1 + rng.geometric(_VIEWS_PER_SESSION_P, size=n_sessions) - 1
    n_views = np.minimum(n_views, 12)
    session_of_view = np.repeat(np.arange(n_sessions), n_views)
    v_user = users[session_of_view]
    v_cat = cats[session_of_view]
    total_views = len(session_of_view)
    v_product = np.empty(total_views, dtype=np.int64)
    v_brand_pref = np.zeros(total_views, dtype=bool)
    v_fav = np.zeros(total_views, dtype=bool)
    v_price_fit = np.zeros(total_views)
    v_quality = np.zeros(total_views)

    quality_all = catalogue["quality"].to_numpy()
    user_cats = shoppers["categories"].tolist()
    user_brands = shoppers["brands"].tolist()
    user_band = shoppers["price_band"].to_numpy()
    cat_index = {c: i for i, c in enumerate(names)}
    key = v_user * len(names) + v_cat
    order = np.argsort(key, kind="stable")
    sorted_keys = key[order]
    splits = np.flatnonzero(np.diff(sorted_keys)) + 1
    for group in np.split(order, splits):
        if not len(group):
            continue
        u, ci = divmod(int(key[group[0]]), len(names))
        rows, z, pop, brand_idx = by_cat[ci]
        fav = names[ci] in user_cats[u]
        pref = np.zeros(len(rows), dtype=bool)
        if fav:
            pref = np.isin(brand_idx, user_brands[u][user_cats[u].index(names[ci])])
        fit = np.exp(-0.5 * ((z - user_band[u]) / _PRICE_WIDTH) ** 2)
        w = pop * np.where(pref, _BRAND_BOOST, 1.0) * (0.15 + fit if fav else 0.6 + 0.4 * fit)
        pick = rng.choice(len(rows), size=len(group), p=w / w.sum())
        v_product[group] = rows[pick]
        v_brand_pref[group] = pref[pick]
        v_fav[group] = fav
        v_price_fit[group] = fit[pick]
        v_quality[group] = quality_all[rows[pick]]
    del cat_index

    # Times: a session starts on a random day at an evening-heavy hour; views ~45 s apart.
    hour_w = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2, 2.2, 2.3, 2.5, 2.8, 2.6, 2.4,
                       2.4, 2.6, 3, 3.6, 4.2, 4.5, 4, 3, 1.8])
    day = rng.integers(0, days, size=n_sessions)
    hour = rng.choice(24, size=n_sessions, p=hour_w / hour_w.sum())
    s_start = start + day * 86400.0 + hour * 3600.0 + rng.random(n_sessions) * 3600.0
    gaps = rng.exponential(45.0, size=total_views) + 3.0
    first = np.r_[0, np.cumsum(n_views)[:-1]]
    csum = np.cumsum(gaps)
    offset = csum - np.repeat(csum[first] - gaps[first], n_views)
    v_time = s_start[session_of_view] + offset

    keep = np.ones(total_views, dtype=bool)
    planted = None
    if sequential_intent:
        # A stream of its own, so the rest of the data is drawn as without the intent.
        intent_rng = np.random.default_rng([seed, 1])
        table = _accessory_table(catalogue, intent_rng)
        v_product, keep, planted = _plant_intent(table, v_product, v_time, n_views, users, cats,
                                                 s_start, intent_rng)
        brand_pref = np.zeros((len(shoppers), len(names), max(len(CATEGORIES[c].brands) for c in names)),
                              dtype=bool)
        for u, (categories, brands) in enumerate(zip(user_cats, user_brands)):
            for c, bs in zip(categories, brands):
                brand_pref[u, names.index(c), list(bs)] = True
        row_cat = pd.Categorical(catalogue["category"], categories=names).codes
        v_brand_pref = brand_pref[v_user, row_cat[v_product], catalogue["brand_idx"].to_numpy()[v_product]]
        v_price_fit = np.exp(-0.5 * ((catalogue["price_z"].to_numpy()[v_product] - user_band[v_user])
                                     / _PRICE_WIDTH) ** 2)
        v_quality = quality_all[v_product]

    # Funnel: liked products go to the cart and get bought more often.
    liked = v_fav & (v_brand_pref | (v_price_fit > 0.6))
    p_cart = 0.03 + 0.07 * v_fav + 0.10 * v_brand_pref + 0.05 * v_price_fit + 0.01 * v_quality
    carted = rng.random(total_views) < np.clip(p_cart, 0.01, 0.9)
    p_buy = 0.30 + 0.30 * liked + 0.04 * v_quality
    bought = carted & (rng.random(total_views) < np.clip(p_buy, 0.05, 0.95))
    qty = np.where(rng.random(total_views) < 0.12, 2, 1)
    c_time = v_time + rng.uniform(5, 120, size=total_views)
    b_time = c_time + rng.uniform(60, 900, size=total_views)
    rated = bought & (rng.random(total_views) < _RATE_PROBABILITY)
    r_time = b_time + rng.uniform(1, 14, size=total_views) * 86400.0
    score_raw = (2.4 + 0.9 * v_fav + 0.8 * v_brand_pref + 0.7 * v_price_fit + 0.35 * v_quality
                 + rng.normal(0, 0.6, size=total_views))
    score = np.clip(np.rint(score_raw), 1, 5)
    rated &= r_time < end

    parts = []
    for mask, kind, times, values in (
        (np.ones(total_views, dtype=bool), "view", v_time, np.ones(total_views)),
        (carted, "cart", c_time, qty.astype(float)),
        (bought, "purchase", b_time, qty.astype(float)),
        (rated, "rating", r_time, score),
    ):
        idx = np.flatnonzero(mask & keep & (times < end))  # nothing in the future
        parts.append(pd.DataFrame({
            "session": session_of_view[idx],
            "user_id": v_user[idx] + 1,
            "product_id": catalogue["product_id"].to_numpy()[v_product[idx]],
            "event": kind,
            "timestamp": np.round(times[idx], 3),
            "value": values[idx],
        }))
    events = pd.concat(parts, ignore_index=True)
    # Exactly n_events: keep whole sessions in a random order (funnel steps come after their
    # views), cut at n_events; then order by time.
    session_rank = rng.permutation(n_sessions)
    events["_rank"] = session_rank[events["session"].to_numpy()]
    events = events.sort_values(["_rank", "timestamp"], kind="stable")
    events = events.drop_duplicates(["user_id", "product_id", "event", "timestamp"])
    ratings = events["event"].to_numpy() == "rating"
    dup_rating = events.duplicated(["user_id", "product_id", "event"], keep="first") & ratings
    events = events[~dup_rating].head(n_events)
    events = events.sort_values(["timestamp", "user_id"], kind="stable").reset_index(drop=True)
    orders = _orders(events[events["event"] == "purchase"],
                     catalogue.set_index("product_id")["price"])
    intents = _planted_pairs(planted, events, v_user, v_time,
                             catalogue["product_id"].to_numpy()[v_product])
    events = events[EVENT_COLUMNS]
    events["user_id"] = events["user_id"].astype(np.int64)
    events["product_id"] = events["product_id"].astype(np.int64)

    products = catalogue[PRODUCT_COLUMNS].copy()
    shoppers = shoppers.assign(
        brands=[
            tuple(tuple(CATEGORIES[c].brands[b] for b in bs) for c, bs in zip(cats, brands))
            for cats, brands in zip(shoppers["categories"], shoppers["brands"])
        ]
    )
    return DemoData(events=events, products=products, shoppers=shoppers, orders=orders,
                    intents=intents)


def _planted_pairs(planted: pd.DataFrame | None, events: pd.DataFrame, v_user: np.ndarray,
                   v_time: np.ndarray, v_product_id: np.ndarray) -> pd.DataFrame:
    """The planted (device, accessory) view pairs whose two views made it into ``events``."""
    columns = ["user_id", "device_id", "accessory_id", "step", "follow_up", "device_time",
               "accessory_time"]
    if planted is None or planted.empty:
        return pd.DataFrame(columns=columns)
    d, a = planted["device_view"].to_numpy(), planted["accessory_view"].to_numpy()
    pairs = pd.DataFrame({
        "user_id": v_user[a] + 1, "device_id": v_product_id[d], "accessory_id": v_product_id[a],
        "step": planted["step"].to_numpy(), "follow_up": planted["follow_up"].to_numpy(),
        "device_time": np.round(v_time[d], 3), "accessory_time": np.round(v_time[a], 3),
    })
    views = events.loc[events["event"] == "view", ["user_id", "product_id", "timestamp"]]
    seen = pd.MultiIndex.from_frame(views)
    has_device = pd.MultiIndex.from_arrays(
        [pairs["user_id"], pairs["device_id"], pairs["device_time"]]).isin(seen)
    has_accessory = pd.MultiIndex.from_arrays(
        [pairs["user_id"], pairs["accessory_id"], pairs["accessory_time"]]).isin(seen)
    return pairs[has_device & has_accessory].reset_index(drop=True)[columns]


def generate_frames(n_users: int = 1000, n_events: int = 100_000, n_products: int = 2400,
                    seed: int = 42, end: float | None = None,
                    sequential_intent: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, products) in the import format, without touching any database."""
    data = generate(n_users=n_users, n_events=n_events, n_products=n_products, seed=seed, end=end,
                    sequential_intent=sequential_intent)
    return data.events, data.products


def write_import_csv(events: pd.DataFrame, products: pd.DataFrame,
                     directory: str | Path) -> tuple[Path, Path]:
    """Write ``products.csv`` and ``events.csv`` (import format) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    products_path, events_path = directory / "products.csv", directory / "events.csv"
    products[PRODUCT_COLUMNS].to_csv(products_path, index=False)
    out = events[EVENT_COLUMNS].copy()
    out["value"] = out["value"].astype(np.int64)
    out.to_csv(events_path, index=False, chunksize=200_000, float_format="%.3f")
    return products_path, events_path
