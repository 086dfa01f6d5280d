"""What every finder of personal data returns, and the options they share.

`Finding`: a kind and a character span, never the value (commenters are often minors, so
warnings and logs name the kind and the position only). `KINDS`: the English name for warnings
and the Finnish placeholder drawn on the card. `MaskOptions`: what the workers chose in
config [privacy] (lone first names, towns, their own names).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data: its kind and span, never its value."""

    kind: str  # a key of KINDS
    start: int
    end: int
    certain: bool  # False: looks like one (e.g. an identity code with a wrong checksum)


# kind -> (English name for warnings, Finnish placeholder on the card). When two findings
# overlap, a certain one wins, then the earlier kind here: "tiktok.com/@nimi" is a link,
# "Kalevan koulusta" a school, not a name.
KINDS: dict[str, tuple[str, str]] = {
    "identity_code": ("identity code", "[henkilötunnus]"),
    "iban": ("bank account", "[tilinumero]"),
    "email": ("e-mail", "[sähköposti]"),
    "url": ("link", "[linkki]"),
    "phone": ("phone number", "[puhelinnumero]"),
    "address": ("street address", "[osoite]"),
    "mention": ("@mention", "[käyttäjä]"),
    "handle": ("user name", "[käyttäjä]"),
    "school": ("school", "[koulu]"),
    "class": ("school class", "[luokka]"),
    "name": ("name", "[nimi]"),
    "place": ("town", "[paikkakunta]"),
}
PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class MaskOptions:
    """Choices from config [privacy]; the defaults are those of `config/default.toml`."""

    mask_first_names: bool = True  # a lone first name ("mun kaveri jenna"); full names always
    mask_towns: bool = False  # every town; by default only a town next to a school or street
    worker_names: tuple[str, ...] = ()  # the workers' own names, never masked ("kiitos Sanna")
