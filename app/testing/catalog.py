"""The product catalogue of a fake store."""

from __future__ import annotations

import re
from typing import Any, TypedDict

from app.testing.phpcompat import money, to_decimal


class CatalogProduct(TypedDict):
    sku: str | None
    name: str
    price: str
    stock: int | None


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
)


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
        "price_html": (
            '<span class="woocommerce-Price-amount amount"><bdi>'
            '<span class="woocommerce-Price-currencySymbol">&#36;</span>'
            f"{amount}</bdi></span>"
        ),
        "related_ids": [],
        "meta_data": [],
        "stock_status": stock_status(entry["stock"]),
        "has_options": False,
        "_links": {
            "self": [{"href": f"{base_url}/wp-json/wc/v3/products/{product_id}"}],
            "collection": [{"href": f"{base_url}/wp-json/wc/v3/products"}],
        },
    }
