"""Product search: what a word matches, and which searches are refused.

How a search page is fetched (the bounded steps) is in test_search_paging.py.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from catalog.search import is_indexed, normalize_terms
from tests.catalog.products import PRODUCTS, search_ids
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


# -- words --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "indexed"),
    [
        ("abc", True),
        ("skillet", True),
        ("t-shirt", True),  # "shirt"
        ("20000", True),
        ("कुर्ता", True),  # letters and combining marks make one run
        ("wi-fi", True),  # pg_trgm sees where "wi" ends and "fi" starts
        ("tv-", True),
        ("tv", False),  # both ends are next to a wildcard
        ("pc", False),
        ("4k", False),
        ("a-b-c", False),  # single characters give no selective trigram
        ("---", False),
        ("", False),
    ],
)
def test_a_word_is_indexed_when_pg_trgm_can_extract_a_trigram(term: str, indexed: bool) -> None:
    assert is_indexed(term) is indexed


def test_terms_are_normalized_to_single_spaces() -> None:
    assert normalize_terms(["tea  \t kettle", " ", "pan\x1f"]) == ["tea kettle", "pan"]


# -- what a search matches ----------------------------------------------------------------


def test_a_quoted_phrase_is_one_word(api_client: APIClient) -> None:
    # given
    phrase = ProductFactory.create(name="Tea Kettle")
    ProductFactory.create(name="Kettle for tea")
    # when
    quoted = search_ids(api_client, search='"tea kettle"')
    spaced = search_ids(api_client, search='"tea    kettle"')
    words = search_ids(api_client, search="tea kettle", ordering="name")
    # then
    assert quoted == [phrase.id]
    assert spaced == [phrase.id]
    assert len(words) == 2


def test_a_phrase_does_not_match_across_the_name_and_the_description(api_client: APIClient) -> None:
    # given: the name ends in "Black" and the description starts with "The"
    product = ProductFactory.create(name="Linen Shirt – Black", description="The linen shirt you wear daily.")
    # when
    across = search_ids(api_client, search='"black the"')
    inside = search_ids(api_client, search='"linen shirt you"')
    # then
    assert across == []
    assert inside == [product.id]


def test_a_short_word_narrows_a_search_with_a_longer_word(api_client: APIClient) -> None:
    # given
    puzzle = ProductFactory.create(name="Jigsaw Puzzle 1000 pc")
    ProductFactory.create(name="Jigsaw Puzzle 500 pieces")
    ProductFactory.create(name="PC stand")  # has "pc" but not the long word
    # when
    found = search_ids(api_client, search="puzzle pc")
    # then
    assert found == [puzzle.id]


def test_a_two_letter_word_beside_punctuation_is_searchable(api_client: APIClient) -> None:
    # given
    router = ProductFactory.create(name="Wi-Fi Router")
    ProductFactory.create(name="Wired Router")
    # when
    found = search_ids(api_client, search="wi-fi")
    # then
    assert found == [router.id]


@pytest.mark.parametrize("search", ["pc", "4k tv", "a b", "t-x", "é"])
def test_a_search_of_only_short_words_is_refused(api_client: APIClient, search: str) -> None:
    # given
    ProductFactory.create(name="pc 4k tv a b é")
    # when
    response = api_client.get(PRODUCTS, {"search": search})
    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"]["search"] == ["Include a word of at least 3 letters or digits."]


def test_a_blank_search_lists_everything(api_client: APIClient) -> None:
    # given
    products = ProductFactory.create_batch(2)
    # when
    found = search_ids(api_client, search="  ,  ")
    # then
    assert sorted(found) == sorted(p.id for p in products)


def test_search_matches_non_latin_words(api_client: APIClient) -> None:
    # given
    kurta = ProductFactory.create(name="सूती कुर्ता", description="हाथ से बना")
    ProductFactory.create(name="Cotton shirt")
    # when
    found = search_ids(api_client, search="कुर्ता")
    # then
    assert found == [kurta.id]
