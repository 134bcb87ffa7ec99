"""Who may touch a cart or an order: the one place that reads "whose is it".

An owner is whoever the request proves to be, in any combination (`owner_from_request`, the only
place that reads the credentials):
- a signed-in user (JWT): their carts and orders;
- a guest cart token (`X-Cart-Token`): that one guest cart (user NULL), unless it was merged;
- an order token (`X-Order-Token`): that one guest order (user NULL);
- plus, by rule, the guest orders whose email is the signed-in user's email, once that user has
  verified it (`user.email_verified`; compared in any case, as accounts/selectors.py does): an
  account attaches the orders placed as a guest with an address it has proved is its own.

A user's JWT does not reach a guest cart without its token, and a guest token does not reach a
user's cart: each condition below names the user or the token explicitly. Anyone else's cart or
order, a wrong token and a missing one are all indistinguishable from a missing row (404, never
403 or 401), so nothing tells "exists" from "not yours".

Confirm is the one read by another credential: the payment session id on the success page
confirms a guest order (`orders_confirmable_by`), as the contract says; a user's order still
needs its owner's JWT. Tokens are stored hashed (checkout/tokens.py); lookups are by hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, Value
from django.db.models.functions import Lower

from accounts.models import User
from checkout.locks import lock_cart
from checkout.models import Cart, Order
from checkout.tokens import header_token_hash
from shopapi.errors import ErrorCode
from shopapi.exceptions import NotFoundError

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest

CART_NOT_FOUND_MESSAGE = "Cart not found."
ORDER_NOT_FOUND_MESSAGE = "Order not found."
CART_TOKEN_HEADER = "X-Cart-Token"  # noqa: S105 - a header name, not a secret
ORDER_TOKEN_HEADER = "X-Order-Token"  # noqa: S105 - a header name, not a secret


@dataclass(frozen=True)
class Owner:
    """The caller as an owner of carts and orders (all None: owns nothing).

    `email` is the signed-in user's address and `email_verified` whether they proved it;
    `cart_token_hash` / `order_token_hash` are the sha256 of the tokens the caller sent.
    """

    user_id: int | None = None
    email: str = ""
    email_verified: bool = False
    cart_token_hash: str | None = None
    order_token_hash: str | None = None

    @property
    def is_user(self) -> bool:
        return self.user_id is not None


OwnerLike = Owner | AbstractBaseUser | AnonymousUser


def owner_of(who: OwnerLike) -> Owner:
    """The one normalisation: an Owner as it is, or the owner a user is (an anonymous user owns
    nothing). Services and selectors take either and call this."""
    if isinstance(who, Owner):
        return who
    pk = who.pk
    if pk is None:
        return Owner()
    verified = isinstance(who, User) and who.email_verified
    return Owner(user_id=int(pk), email=str(getattr(who, "email", "") or ""), email_verified=verified)


def owner_from_request(request: HttpRequest) -> Owner:
    """The owner a request proves to be: its user (JWT), and the guest tokens it sends."""
    user = getattr(request, "user", None)
    base = owner_of(user) if user is not None else Owner()
    return Owner(
        user_id=base.user_id,
        email=base.email,
        email_verified=base.email_verified,
        cart_token_hash=header_token_hash(request.headers.get(CART_TOKEN_HEADER)),
        order_token_hash=header_token_hash(request.headers.get(ORDER_TOKEN_HEADER)),
    )


def _guest_cart(token_hash: str) -> Q:
    return Q(user__isnull=True, token_hash=token_hash) & ~Q(status=Cart.Status.MERGED)


def carts_of(who: OwnerLike) -> QuerySet[Cart]:
    """The user's carts, and the (unmerged) guest cart whose token was sent."""
    owner = owner_of(who)
    condition = Q()
    if owner.user_id is not None:
        condition |= Q(user_id=owner.user_id)
    if owner.cart_token_hash is not None:
        condition |= _guest_cart(owner.cart_token_hash)
    return Cart.objects.filter(condition) if condition else Cart.objects.none()


def guest_cart_of(who: OwnerLike) -> QuerySet[Cart]:
    """Only the guest cart whose token was sent (none without a token), whoever else the caller is."""
    owner = owner_of(who)
    if owner.cart_token_hash is None:
        return Cart.objects.none()
    return Cart.objects.filter(_guest_cart(owner.cart_token_hash))


def _orders_condition(owner: Owner) -> Q:
    condition = Q()
    if owner.user_id is not None:
        condition |= Q(user_id=owner.user_id)
        if owner.email_verified and owner.email:
            condition |= Q(user__isnull=True, email_ci=Lower(Value(owner.email)))
    if owner.order_token_hash is not None:
        condition |= Q(user__isnull=True, token_hash=owner.order_token_hash)
    return condition


def _orders(condition: Q) -> QuerySet[Order]:
    if not condition:
        return Order.objects.none()
    return Order.objects.alias(email_ci=Lower("email")).filter(condition)


def orders_of(who: OwnerLike) -> QuerySet[Order]:
    """The user's orders, the guest order whose token was sent, and the guest orders attached to a
    verified email (module docstring)."""
    return _orders(_orders_condition(owner_of(who)))


def orders_confirmable_by(who: OwnerLike) -> QuerySet[Order]:
    """What confirm may find by session id: the caller's orders, and any guest order (the session
    id from the success page is the guest's credential there)."""
    return _orders(_orders_condition(owner_of(who)) | Q(user__isnull=True))


def cart_not_found() -> NotFoundError:
    return NotFoundError(CART_NOT_FOUND_MESSAGE, code=ErrorCode.CART_NOT_FOUND)


def order_not_found() -> NotFoundError:
    return NotFoundError(ORDER_NOT_FOUND_MESSAGE, code=ErrorCode.ORDER_NOT_FOUND)


def lock_owned_cart(*, cart_id: UUID | str, owner: OwnerLike) -> Cart:
    """Lock the caller's cart row and return it; `NotFoundError` (404) for anyone else's.

    Must run inside `transaction.atomic`.
    """
    cart = lock_cart(cart_id, within=carts_of(owner))
    if cart is None:
        raise cart_not_found()
    return cart
