"""Synthetic, seeded shop data with planted tastes (pure numpy/pandas, no Django).

The catalogue has 14 categories, each with its own brands, nouns, adjectives and attributes;
prices are lognormal per category; names and descriptions mention the attributes so content
(TF-IDF) features carry signal. Shoppers have hidden tastes:

* a mixture over 1-3 favourite categories (plus a little exploration elsewhere),
* one or two preferred brands in each favourite category,
* a price band (cheap ... premium, relative to each category's price range),

and products have a popularity skew within their category. Shoppers browse in sessions (one
category per session); views turn into carts and carts into purchases more often for products
that match their taste, and ratings (given for some purchases) are higher for liked products.
Events spread over the ``DAYS`` days before ``end``. A recommender that learns the tastes beats
popularity on this data.

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
class CategorySpec:
    brands: tuple[str, ...]
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    attributes: tuple[str, ...]
    uses: tuple[str, ...]
    median_price: float
    price_sigma: float
    weight: float  # share of the catalogue and of shoppers' interest


CATEGORIES: dict[str, CategorySpec] = {
    "Books": CategorySpec(
        ("Penguin House", "Harbor Press", "Quillstone", "Northlight Books", "Red Fern", "Atlas & Ink"),
        ("Novel", "Cookbook", "Biography", "Thriller", "Poetry Collection", "Travel Guide",
         "History Book", "Fantasy Saga", "Science Primer", "Graphic Novel"),
        ("Bestselling", "Illustrated", "Award-Winning", "Classic", "Annotated", "Gripping",
         "Collector's"),
        ("hardcover", "paperback", "large print", "signed edition", "first edition",
         "illustrated maps", "author interview", "reading guide"),
        ("a quiet weekend read", "a book club evening", "a long flight", "gifting to a reader"),
        14.0, 0.45, 1.3,
    ),
    "Electronics": CategorySpec(
        ("Voltix", "Lumina", "Sonora", "Kestrel Tech", "Nimbus", "Quantic"),
        ("Headphones", "Bluetooth Speaker", "Smartwatch", "Tablet", "Charger", "Webcam",
         "E-Reader", "Action Camera", "Power Bank", "Router"),
        ("Wireless", "Compact", "Pro", "Ultra-Slim", "Smart", "Rugged", "Noise-Cancelling"),
        ("bluetooth 5.3", "usb-c charging", "long battery life", "4k video", "water resistant",
         "fast charging", "voice assistant", "oled display"),
        ("commuting", "home office calls", "streaming music", "travel"),
        89.0, 0.8, 1.2,
    ),
    "Kitchen": CategorySpec(
        ("Copperline", "ChefCraft", "Oak & Iron", "Mesa", "Saltbox", "Brightpan"),
        ("Kettle", "Frying Pan", "Chef's Knife", "Stand Mixer", "Dutch Oven", "Cutting Board",
         "Coffee Grinder", "Toaster", "Saucepan Set", "Blender"),
        ("Stainless", "Professional", "Classic", "Compact", "Heavy-Duty", "Artisan", "Everyday"),
        ("stainless steel", "non-stick coating", "cast iron", "dishwasher safe",
         "induction ready", "ergonomic handle", "bpa free", "tempered glass lid"),
        ("weeknight dinners", "baking bread", "brewing morning coffee", "meal prep"),
        38.0, 0.65, 1.1,
    ),
    "Garden": CategorySpec(
        ("GreenThumb", "Verdant", "Hedgehog Tools", "Bloomwell", "Rootstock", "Meadowline"),
        ("Garden Hose", "Pruning Shears", "Planter", "Seed Kit", "Wheelbarrow", "Watering Can",
         "Raised Bed", "Lawn Sprinkler", "Compost Bin", "Trowel"),
        ("Durable", "Weatherproof", "Lightweight", "Organic", "Heavy-Duty", "Expandable"),
        ("galvanised steel", "uv resistant", "organic seeds", "frost hardy", "drip irrigation",
         "recycled plastic", "ergonomic grip", "rust proof"),
        ("spring planting", "balcony gardens", "vegetable patches", "lawn care"),
        27.0, 0.7, 0.8,
    ),
    "Toys": CategorySpec(
        ("Playfox", "Tiny Titans", "Wonderblock", "Kazoo Kids", "Marble Moon", "Tinkertown"),
        ("Building Set", "Puzzle", "Plush Bear", "Board Game", "Toy Car", "Doll House",
         "Science Kit", "Train Set", "Craft Kit", "Kite"),
        ("Colourful", "Educational", "Wooden", "Giant", "Classic", "Creative", "Interactive"),
        ("ages 3 and up", "stem learning", "non-toxic paint", "battery free", "1000 pieces",
         "family game night", "sustainable wood", "glow in the dark"),
        ("rainy afternoons", "birthday gifts", "family game night", "learning through play"),
        24.0, 0.6, 0.9,
    ),
    "Sports": CategorySpec(
        ("Stride", "Apex Athletics", "Pacer", "Ironclad", "Velocity", "Summit Sport"),
        ("Running Shoes", "Yoga Mat", "Dumbbell Set", "Tennis Racket", "Football",
         "Cycling Helmet", "Jump Rope", "Resistance Bands", "Gym Bag", "Water Bottle"),
        ("Lightweight", "Pro", "Breathable", "Adjustable", "Competition", "Training"),
        ("moisture wicking", "shock absorbing", "carbon fibre", "non-slip grip",
         "adjustable weight", "reflective details", "insulated", "quick dry"),
        ("marathon training", "home workouts", "weekend matches", "the gym"),
        42.0, 0.7, 1.0,
    ),
    "Beauty": CategorySpec(
        ("Lumiere", "Petal & Pearl", "Glowry", "Aurelia", "Bare Botanics", "Velvet Skin"),
        ("Face Serum", "Moisturiser", "Lipstick", "Shampoo", "Eye Palette", "Sunscreen",
         "Perfume", "Face Mask", "Hair Oil", "Cleanser"),
        ("Hydrating", "Radiant", "Gentle", "Nourishing", "Luxe", "Matte", "Revitalising"),
        ("hyaluronic acid", "vitamin c", "cruelty free", "fragrance free", "spf 50",
         "vegan formula", "argan oil", "dermatologist tested"),
        ("a morning routine", "sensitive skin", "evenings out", "summer days"),
        22.0, 0.7, 1.0,
    ),
    "Grocery": CategorySpec(
        ("Farmhouse", "Golden Grain", "Orchard Lane", "Pantry Co", "Sunny Acres", "Bean Street"),
        ("Coffee Beans", "Olive Oil", "Pasta", "Granola", "Dark Chocolate", "Green Tea",
         "Honey", "Rice", "Hot Sauce", "Peanut Butter"),
        ("Organic", "Fair-Trade", "Artisan", "Family-Size", "Roasted", "Wholegrain"),
        ("single origin", "gluten free", "cold pressed", "no added sugar", "fair trade",
         "small batch", "non gmo", "high protein"),
        ("a healthy breakfast", "family dinners", "snacking", "stocking the pantry"),
        7.5, 0.5, 1.2,
    ),
    "Fashion": CategorySpec(
        ("Maison Lark", "Threadbare", "Urban Loom", "Coastline", "Norde", "Silk Route"),
        ("Denim Jacket", "Sneakers", "Wool Scarf", "Summer Dress", "Leather Belt", "Handbag",
         "Chinos", "Knit Sweater", "Sunglasses", "Ankle Boots"),
        ("Classic", "Slim-Fit", "Oversized", "Vintage", "Tailored", "Casual", "Elegant"),
        ("organic cotton", "merino wool", "genuine leather", "recycled fabric", "slim fit",
         "hand stitched", "water repellent", "stretch denim"),
        ("everyday wear", "the office", "weekend trips", "evening events"),
        55.0, 0.7, 1.1,
    ),
    "Home": CategorySpec(
        ("Nestwell", "Hearth & Co", "Linenhaus", "Lumen Living", "Driftwood", "Casa Calma"),
        ("Throw Blanket", "Table Lamp", "Scented Candle", "Cushion", "Wall Clock", "Rug",
         "Bed Linen Set", "Vase", "Bookshelf", "Storage Basket"),
        ("Cosy", "Minimalist", "Handmade", "Scandinavian", "Rustic", "Modern"),
        ("linen blend", "solid oak", "soy wax", "hand woven", "dimmable led",
         "machine washable", "recycled glass", "velvet finish"),
        ("living rooms", "bedrooms", "housewarming gifts", "small apartments"),
        45.0, 0.75, 1.0,
    ),
    "Outdoors": CategorySpec(
        ("Trailhead", "Northface Ridge", "Basecamp", "Wildpine", "Summitline", "Ranger & Co"),
        ("Tent", "Hiking Backpack", "Sleeping Bag", "Headlamp", "Camping Stove",
         "Trekking Poles", "Rain Jacket", "Hammock", "Cooler Box", "Hiking Boots"),
        ("Ultralight", "Waterproof", "All-Season", "Packable", "Rugged", "Expedition"),
        ("waterproof seams", "ripstop nylon", "three season", "down insulation",
         "gore tex membrane", "compact packing", "uv protection", "windproof"),
        ("weekend camping", "long-distance hiking", "alpine trips", "festival season"),
        65.0, 0.75, 0.9,
    ),
    "Music": CategorySpec(
        ("Resonance", "Stagecraft", "Bluenote Audio", "Harmonix", "Fretwell", "Soundwave"),
        ("Acoustic Guitar", "Vinyl Record", "Keyboard", "Ukulele", "Drum Pad", "Microphone",
         "Guitar Strings", "Studio Monitor", "Violin", "Audio Interface"),
        ("Vintage", "Studio", "Beginner", "Professional", "Handcrafted", "Portable"),
        ("solid spruce top", "180 gram vinyl", "weighted keys", "usb audio",
         "cardioid pickup", "nickel wound", "hard case included", "low latency"),
        ("home recording", "practice sessions", "live gigs", "learning an instrument"),
        70.0, 0.95, 0.7,
    ),
    "Pets": CategorySpec(
        ("Happy Paws", "Furbridge", "Whisker & Tail", "Barkley", "Petwell", "Nibbles"),
        ("Dog Food", "Cat Tree", "Pet Bed", "Chew Toy", "Leash", "Litter Box", "Bird Feeder",
         "Aquarium Filter", "Grooming Brush", "Cat Treats"),
        ("Durable", "Grain-Free", "Orthopedic", "Interactive", "Natural", "Cosy"),
        ("grain free", "vet approved", "machine washable", "natural rubber", "reflective strap",
         "memory foam", "odour control", "real chicken"),
        ("puppies", "indoor cats", "senior dogs", "busy pet owners"),
        18.0, 0.7, 0.8,
    ),
    "Office": CategorySpec(
        ("Paperlane", "Deskworks", "Inkwell", "Studio Nine", "Ledger & Co", "Brightdesk"),
        ("Notebook", "Fountain Pen", "Desk Organiser", "Office Chair", "Planner", "Stapler",
         "Monitor Stand", "Desk Lamp", "Whiteboard", "Filing Box"),
        ("Ergonomic", "Premium", "Minimal", "Refillable", "Compact", "Executive"),
        ("dotted pages", "recycled paper", "lumbar support", "adjustable height",
         "refillable ink", "bamboo finish", "magnetic surface", "cable management"),
        ("the home office", "students", "journaling", "long work days"),
        19.0, 0.8, 0.8,
    ),
}

# Named demo shoppers: user ids 1..5, documented tastes (categories, price band z: -1 cheap..+1 premium).
NAMED_SHOPPERS: list[dict] = [
    {"username": "alice", "categories": ("Books", "Kitchen"), "price_band": 0.3},
    {"username": "bob", "categories": ("Sports", "Outdoors"), "price_band": 0.6},
    {"username": "carol", "categories": ("Beauty", "Fashion"), "price_band": 0.8},
    {"username": "dave", "categories": ("Electronics", "Music"), "price_band": -0.2},
    {"username": "erin", "categories": ("Garden", "Pets"), "price_band": -0.6},
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


@dataclass
class DemoData:
    events: pd.DataFrame  # import format
    products: pd.DataFrame  # import format
    shoppers: pd.DataFrame  # user_id, username, categories, weights, brands, price_band


def default_end() -> float:
    """Midnight UTC of today, as unix seconds (so a day's runs produce the same data)."""
    today = pd.Timestamp.now(tz="UTC").normalize()
    return float(today.timestamp())


# --------------------------------------------------------------------------------------------
# Catalogue


def _article(word: str) -> str:
    return "An" if word[:1].lower() in "aeiou" else "A"


def make_catalogue(n_products: int, rng: np.random.Generator) -> pd.DataFrame:
    """Products with hidden columns ``popularity`` and ``quality`` (dropped for import)."""
    names = list(CATEGORIES)
    weights = np.array([CATEGORIES[c].weight for c in names])
    share = n_products * weights / weights.sum()
    counts = np.floor(share).astype(int)
    rest = n_products - counts.sum()
    counts[np.argsort(-(share - counts), kind="stable")[:rest]] += 1  # exactly n_products
    frames = []
    next_id = 1
    for cat, n in zip(names, counts):
        spec = CATEGORIES[cat]
        brand_w = 1.0 / np.arange(1, len(spec.brands) + 1) ** 0.7
        brand_idx = rng.choice(len(spec.brands), size=n, p=brand_w / brand_w.sum())
        noun_idx = rng.integers(len(spec.nouns), size=n)
        adj_idx = rng.integers(len(spec.adjectives), size=n)
        attrs = np.argsort(rng.random((n, len(spec.attributes))), axis=1)[:, :3]
        use_idx = rng.integers(len(spec.uses), size=n)
        quality = rng.normal(0, 1, size=n)
        price = np.exp(np.log(spec.median_price) + spec.price_sigma * rng.normal(0, 1, size=n)
                       + 0.1 * quality)
        price = np.round(np.maximum(price, 0.99), 2) - np.where(rng.random(n) < 0.6, 0.01, 0.0)
        # Popularity: a Zipf-like skew within the category, nudged by quality.
        rank = rng.permutation(n) + 1
        popularity = (1.0 / rank**0.85) * np.exp(0.25 * quality)
        series = rng.integers(100, 999, size=n)
        rows_name, rows_desc = [], []
        for i in range(n):
            brand = spec.brands[brand_idx[i]]
            noun = spec.nouns[noun_idx[i]]
            adj = spec.adjectives[adj_idx[i]]
            a1, a2, a3 = (spec.attributes[j] for j in attrs[i])
            rows_name.append(f"{brand} {adj} {noun} {series[i]}")
            tier = "premium" if price[i] > spec.median_price * 1.6 else (
                "budget-friendly" if price[i] < spec.median_price / 1.6 else "mid-range")
            rows_desc.append(
                f"{_article(adj)} {adj.lower()} {noun.lower()} from {brand} with {a1} and {a2}. "
                f"Made for {spec.uses[use_idx[i]]}, it also features {a3}. "
                f"A {tier} pick in our {cat.lower()} range."
            )
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
    generic = shoppers.loc[~shoppers["named"], "activity"]
    named_activity = (3.0 * generic.mean()) if len(generic) else 1.0
    shoppers["activity"] = shoppers["activity"].fillna(named_activity).astype(float)
    return shoppers


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


def generate(n_users: int = 1000, n_events: int = 100_000, n_products: int = 2400,
             seed: int = 42, end: float | None = None, days: int = DAYS) -> DemoData:
    """Seeded demo data: same arguments -> identical frames."""
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
        spec = CATEGORIES[c]
        z = (np.log(catalogue["price"].to_numpy()[rows]) - np.log(spec.median_price)) / spec.price_sigma
        by_cat[ci] = (rows, z, catalogue["popularity"].to_numpy()[rows],
                      catalogue["brand_idx"].to_numpy()[rows])

    # Views per event: 1 + cart + purchase + rating; aim a little high, trim to n_events below.
    n_sessions = max(2 * n_users, int(n_events * _VIEWS_PER_SESSION_P / _EVENTS_PER_VIEW) + 1)
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
        idx = np.flatnonzero(mask & (times < end))  # nothing in the future
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
    return DemoData(events=events, products=products, shoppers=shoppers)


def generate_frames(n_users: int = 1000, n_events: int = 100_000, n_products: int = 2400,
                    seed: int = 42, end: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, products) in the import format, without touching any database."""
    data = generate(n_users=n_users, n_events=n_events, n_products=n_products, seed=seed, end=end)
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
