"""The product catalogue of a fake store."""

from __future__ import annotations

import re
from typing import Any, NotRequired, TypedDict

from app.testing.phpcompat import money, to_decimal


class CatalogVariation(TypedDict):
    """One variation of a variable product: its own SKU, price, stock and attribute values."""

    sku: str
    price: str
    stock: int | None
    attributes: dict[str, str]


class CatalogProduct(TypedDict):
    """A simple product, or a variable one when ``variations`` is given (its ``price`` is then
    ignored: a variable product's price is its cheapest variation's)."""

    sku: str | None
    name: str
    price: str
    stock: int | None
    variations: NotRequired[list[CatalogVariation]]


# The five SKUs every recorded test store carries. Names and prices of the red T-shirt, the mug
# and the sticker pack come from the recordings; the blue T-shirt and the hoodie never appear in
# a recorded order, so their names and prices are made up. Product ids follow this order from
# the store's offset (posts store: 10..14, HPOS store: 17..21 in the recordings).
DEMO_CATALOG: tuple[CatalogProduct, ...] = (
    {"sku": "SKU-TSHIRT-RED", "name": "Red T-Shirt", "price": "19.99", "stock": 500},
    {"sku": "SKU-TSHIRT-BLUE", "name": "Blue T-Shirt", "price": "19.99", "stock": 500},
    {"sku": "SKU-MUG-001", "name": "Coffee Mug", "price": "9.50", "stock": 500},
    {"sku": "SKU-HOODIE-L", "name": "Hoodie (L)", "price": "39.00", "stock": 100},
    {"sku": "SKU-STICKER", "name": "Sticker Pack", "price": "3.25", "stock": 9000},
    # A variable product like the recorded "Polo variable" (real-*/v01-v02): one custom
    # attribute, a SKU and a price per variation.
    {
        "sku": "SKU-POLO",
        "name": "Polo Shirt",
        "price": "20.00",
        "stock": None,
        "variations": [
            {"sku": "SKU-POLO-S", "price": "20.00", "stock": 50, "attributes": {"Size": "S"}},
            {"sku": "SKU-POLO-M", "price": "22.00", "stock": 50, "attributes": {"Size": "M"}},
            {"sku": "SKU-POLO-L", "price": "24.00", "stock": 50, "attributes": {"Size": "L"}},
        ],
    },
)
# The simple products only, for callers that add products one by one by SKU and price.
SIMPLE_CATALOG: tuple[CatalogProduct, ...] = tuple(p for p in DEMO_CATALOG if not p.get("variations"))


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "product"


def stock_status(stock: int | None) -> str:
    if stock is None or stock > 0:
        return "instock"
    return "outofstock"


def build_product(product_id: int, entry: CatalogProduct, *, base_url: str, now: str) -> dict[str, Any]:
    """A product as ``GET /wc/v3/products/{id}`` shows it (shape of recording 30a)."""
    amount = money(to_decimal(entry["price"]))
    slug = slugify(entry["name"])
    return {
        "id": product_id,
        "name": entry["name"],
        "slug": slug,
        "permalink": f"{base_url}/product/{slug}/",
        "date_created": now,
        "date_created_gmt": now,
        "date_modified": now,
        "date_modified_gmt": now,
        "type": "simple",
        "status": "publish",
        "featured": False,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": entry["sku"] or "",
        "price": amount,
        "regular_price": amount,
        "sale_price": "",
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "on_sale": False,
        "purchasable": True,
        "total_sales": 0,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": "",
        "button_text": "",
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": entry["stock"] is not None,
        "stock_quantity": entry["stock"],
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "sold_individually": False,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_required": True,
        "shipping_taxable": True,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": True,
        "average_rating": "0.00",
        "rating_count": 0,
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": 0,
        "purchase_note": "",
        "categories": [{"id": 15, "name": "Uncategorized", "slug": "uncategorized"}],
        "tags": [],
        "images": [],
        "attributes": [],
        "default_attributes": [],
        "variations": [],
        "grouped_products": [],
        "menu_order": 0,
        "price_html": _price_html(amount),
        "related_ids": [],
        "meta_data": [],
        "stock_status": stock_status(entry["stock"]),
        "has_options": False,
        "_links": {
            "self": [{"href": f"{base_url}/wp-json/wc/v3/products/{product_id}"}],
            "collection": [{"href": f"{base_url}/wp-json/wc/v3/products"}],
        },
    }


def attribute_slug(name: str) -> str:
    """``sanitize_title`` of a custom attribute's name: the line-item meta key (``size``)."""
    return slugify(name)


def _price_html(amount: str) -> str:
    return (
        '<span class="woocommerce-Price-amount amount"><bdi>'
        '<span class="woocommerce-Price-currencySymbol">&#36;</span>'
        f"{amount}</bdi></span>"
    )


def build_variable_parent(
    product_id: int,
    entry: CatalogProduct,
    *,
    base_url: str,
    now: str,
    attributes: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A variable product as ``GET /products/{id}`` shows it (real-*/v01, v04): no stock of
    its own and an empty ``regular_price``; ``refresh_variable_parent`` fills in its price
    and variation ids. ``attributes`` default to those of the entry's variations."""
    product = build_product(
        product_id,
        CatalogProduct(sku=entry["sku"], name=entry["name"], price="", stock=None),
        base_url=base_url,
        now=now,
    )
    if attributes is None:
        attributes = {}
        for variation in entry.get("variations") or []:
            for name, option in variation["attributes"].items():
                options = attributes.setdefault(name, [])
                if option not in options:
                    options.append(option)
    product.update(
        {
            "type": "variable",
            "regular_price": "",
            "attributes": [
                {
                    "id": 0,
                    "name": name,
                    "position": position,
                    "visible": True,
                    "variation": True,
                    "options": list(options),
                }
                for position, (name, options) in enumerate(attributes.items())
            ],
            "has_options": True,
        }
    )
    refresh_variable_parent(product, [])
    return product


def refresh_variable_parent(parent: dict[str, Any], variations: list[dict[str, Any]]) -> None:
    """A variable product's price is its cheapest variation's; before it has any, ``""``
    and ``variations: []`` (real-*/v01, v03a ``observed``)."""
    prices = sorted(to_decimal(v["price"]) for v in variations if v["price"] != "")
    low, high = (money(prices[0]), money(prices[-1])) if prices else ("", "")
    parent["price"] = low
    parent["variations"] = sorted(v["id"] for v in variations)
    # Nothing to sell before a variation exists (real-*/v01).
    in_stock = any(v["stock_status"] == "instock" for v in variations)
    parent["stock_status"] = "instock" if in_stock else "outofstock"
    if not prices:
        parent["price_html"] = ""
    else:
        parent["price_html"] = _price_html(low) + (f" &ndash; {_price_html(high)}" if high != low else "")


def variation_name(parent_name: str, attributes: dict[str, str]) -> str:
    return f"{parent_name} - {', '.join(attributes.values())}"


def build_variation(
    product_id: int,
    parent: dict[str, Any],
    variation: CatalogVariation,
    *,
    base_url: str,
    now: str,
) -> dict[str, Any]:
    """A variation as the products route shows it (real-*/v05b): ``type: variation`` and the
    parent's id; the variations route shows a subset of it (``variation_route_view``)."""
    name = variation_name(parent["name"], variation["attributes"])
    entry = CatalogProduct(
        sku=variation["sku"], name=name, price=variation["price"], stock=variation["stock"]
    )
    product = build_product(product_id, entry, base_url=base_url, now=now)
    query = "&".join(f"attribute_{attribute_slug(k)}={v}" for k, v in variation["attributes"].items())
    product.update(
        {
            "permalink": f"{parent['permalink']}?{query}",
            "type": "variation",
            "total_sales": "0",
            "reviews_allowed": False,
            "parent_id": parent["id"],
            "categories": [],
            "attributes": [{"id": 0, "name": k, "option": v} for k, v in variation["attributes"].items()],
            "related_ids": [],
        }
    )
    product["_links"]["up"] = [{"href": f"{base_url}/wp-json/wc/v3/products/{parent['id']}"}]
    return product


# Keys of a variation on ``/products/{parent}/variations`` (real-7.8-*/v05d); 10.6 adds
# ``name``, ``parent_id``, ``type`` and ``global_unique_id`` (real-10.6-hpos/v05d).
VARIATION_ROUTE_KEYS = (
    "id",
    "date_created",
    "date_created_gmt",
    "date_modified",
    "date_modified_gmt",
    "description",
    "permalink",
    "sku",
    "price",
    "regular_price",
    "sale_price",
    "date_on_sale_from",
    "date_on_sale_from_gmt",
    "date_on_sale_to",
    "date_on_sale_to_gmt",
    "on_sale",
    "status",
    "purchasable",
    "virtual",
    "downloadable",
    "downloads",
    "download_limit",
    "download_expiry",
    "tax_status",
    "tax_class",
    "manage_stock",
    "stock_quantity",
    "stock_status",
    "backorders",
    "backorders_allowed",
    "backordered",
    "low_stock_amount",
    "weight",
    "dimensions",
    "shipping_class",
    "shipping_class_id",
    "image",
    "attributes",
    "menu_order",
    "meta_data",
)


def variation_route_view(product: dict[str, Any], *, base_url: str, version: str) -> dict[str, Any]:
    """A variation as ``/products/{parent}/variations[/{id}]`` shows it."""
    view: dict[str, Any] = {}
    for key in VARIATION_ROUTE_KEYS:
        if key == "image":
            view[key] = None
        elif key == "sku" and version != "7.8":
            # 10.6 names a variation by its attribute values here: "M" (real-10.6-hpos/v05d).
            view["name"] = ", ".join(a["option"] for a in product["attributes"])
            view[key] = product[key]
        elif key == "attributes" and version != "7.8":
            view[key] = with_attribute_slugs(product[key])
        else:
            view[key] = product[key]
    if version != "7.8":
        view["type"] = "variation"
        view["parent_id"] = product["parent_id"]
        view["global_unique_id"] = ""
    parent = f"{base_url}/wp-json/wc/v3/products/{product['parent_id']}"
    view["_links"] = {
        "self": [{"href": f"{parent}/variations/{product['id']}"}],
        "collection": [{"href": f"{parent}/variations"}],
        "up": [{"href": parent}],
    }
    return view


def with_attribute_slugs(attributes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """10.6's attributes carry a ``slug``: the name itself on a variable product, the
    sanitised name on a variation (real-10.6-hpos/v04, v05b)."""
    out = []
    for attribute in attributes:
        slug = attribute["name"] if "options" in attribute else attribute_slug(attribute["name"])
        shown: dict[str, Any] = {}
        for key, value in attribute.items():
            shown[key] = value
            if key == "name":
                shown["slug"] = slug
        out.append(shown)
    return out
