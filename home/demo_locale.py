"""``seed_demo --locale de|it``: the demo company as a German or Italian sales organisation.

Runs after the demo is seeded and renames what people read — the company, its staff and
reps, regions and territories, plants and work centers, customer accounts — and sets the
currency to EUR. Codes, keys, quantities and every relation stay as seeded, so the demo's
figures, alerts and tests are the same in every locale.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from core.models import Profile
from core.services import organisation_settings_get
from sop.models import Plant, WorkCenter
from territories.models import Account, Territory

LOCALES = ("de", "it")

COMPANY = {"de": "Aster Pumpen & Steuerungen GmbH (Demo)", "it": "Aster Pompe e Controlli S.p.A. (demo)"}
STAFF = {
    "de": {
        "admin": ("Anja", "Admin"),
        "planner": ("Paul", "Planer"),
        "ops": ("Otto", "Betriebsleiter"),
        "exec": ("Eva", "Geschäftsführerin"),
    },
    "it": {
        "admin": ("Ada", "Amministratrice"),
        "planner": ("Paolo", "Pianificatore"),
        "ops": ("Oscar", "Operativo"),
        "exec": ("Elena", "Direttrice"),
    },
}
FIRST = {
    "de": [
        "Lukas",
        "Anna",
        "Jonas",
        "Lea",
        "Felix",
        "Marie",
        "Maximilian",
        "Sophie",
        "Leon",
        "Laura",
        "Paul",
        "Julia",
        "Moritz",
        "Katharina",
        "Tobias",
        "Hannah",
        "Florian",
        "Lena",
        "Sebastian",
        "Clara",
        "Jan",
        "Mia",
    ],
    "it": [
        "Luca",
        "Giulia",
        "Marco",
        "Francesca",
        "Alessandro",
        "Chiara",
        "Matteo",
        "Sara",
        "Lorenzo",
        "Martina",
        "Andrea",
        "Elisa",
        "Davide",
        "Valentina",
        "Simone",
        "Federica",
        "Stefano",
        "Alessia",
        "Riccardo",
        "Anna",
        "Giorgio",
        "Silvia",
    ],
}
LAST = {
    "de": [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
        "Koch",
        "Richter",
        "Klein",
        "Wolf",
        "Schröder",
        "Neumann",
        "Schwarz",
        "Zimmermann",
        "Braun",
        "Krüger",
    ],
    "it": [
        "Rossi",
        "Russo",
        "Ferrari",
        "Esposito",
        "Bianchi",
        "Romano",
        "Colombo",
        "Ricci",
        "Marino",
        "Greco",
        "Bruno",
        "Gallo",
        "Conti",
        "De Luca",
        "Mancini",
        "Costa",
        "Giordano",
        "Rizzo",
        "Lombardi",
        "Moretti",
    ],
}
REGIONS = {
    "de": {
        "NE": "Nord",
        "SE": "Süd",
        "CE": "Mitte",
        "WE": "West",
        "MA": "Rhein-Main",
        "SC": "Bayern",
        "MO": "Alpenvorland",
        "PN": "Küste",
    },
    "it": {
        "NE": "Nord-Est",
        "SE": "Sud",
        "CE": "Centro",
        "WE": "Nord-Ovest",
        "MA": "Lombardia",
        "SC": "Sicilia",
        "MO": "Alpi",
        "PN": "Tirreno",
    },
}
WORDS = {
    "de": {"district": "Bezirk", "territory": "Gebiet"},
    "it": {"district": "distretto", "territory": "zona"},
}
PLANTS = {
    "de": {"PL-OHIO": "Werk Augsburg", "PL-TEXAS": "Werk Chemnitz"},
    "it": {"PL-OHIO": "Stabilimento di Brescia", "PL-TEXAS": "Stabilimento di Bologna"},
}
WORK_CENTERS = {
    "de": {
        "Casting": "Gießerei",
        "Machining": "Zerspanung",
        "Pump assembly": "Pumpenmontage",
        "Valve assembly": "Ventilmontage",
        "Electronics": "Elektronik",
        "Test & pack": "Prüfung & Verpackung",
    },
    "it": {
        "Casting": "Fonderia",
        "Machining": "Lavorazioni meccaniche",
        "Pump assembly": "Montaggio pompe",
        "Valve assembly": "Montaggio valvole",
        "Electronics": "Elettronica",
        "Test & pack": "Collaudo e imballo",
    },
}
ACCOUNT_A = {
    "de": [
        "Hafen",
        "Gipfel",
        "Pionier",
        "Granit",
        "Flussufer",
        "Schlussstein",
        "Immergrün",
        "Atlas",
        "Leuchtturm",
        "Zeder",
        "Grenzland",
        "Freiheit",
        "Meridian",
        "Nordstern",
        "Eichenhain",
        "Prärie",
        "Rotholz",
        "Silber",
        "Gezeiten",
        "Tal",
    ],
    "it": [
        "Porto",
        "Vetta",
        "Pioniere",
        "Granito",
        "Riva",
        "Chiave",
        "Sempreverde",
        "Atlante",
        "Faro",
        "Cedro",
        "Frontiera",
        "Libertà",
        "Meridiana",
        "Stella Polare",
        "Quercia",
        "Prateria",
        "Sequoia",
        "Argento",
        "Marea",
        "Valle",
    ],
}
ACCOUNT_B = {
    "de": [
        "Wasserwerke",
        "Lebensmittel",
        "Chemie",
        "Maschinenbau",
        "Energie",
        "Mineralien",
        "Pharma",
        "Versorgung",
        "Agrar",
        "Gebäudetechnik",
        "Industrie",
        "Prozesstechnik",
        "Fluidtechnik",
        "Brauerei",
        "Molkerei",
    ],
    "it": [
        "Acque",
        "Alimentari",
        "Chimica",
        "Meccanica",
        "Energia",
        "Minerali",
        "Farmaceutica",
        "Servizi",
        "Agricola",
        "Impianti",
        "Industriale",
        "Processi",
        "Fluidotecnica",
        "Birrificio",
        "Caseificio",
    ],
}
ACCOUNT_C = {
    "de": ["GmbH", "AG", "KG", "GmbH & Co. KG", "e.K.", "Gruppe"],
    "it": ["S.r.l.", "S.p.A.", "S.n.c.", "S.a.s.", "Gruppo", "& Figli"],
}


@transaction.atomic
def demo_localise(*, locale: str) -> None:
    """Rename the seeded demo company's people, places and customers for ``locale``; EUR."""
    if locale not in LOCALES:
        raise ValueError(f"locale must be one of {', '.join(LOCALES)}")
    org = organisation_settings_get()
    org.name, org.currency = COMPANY[locale], "EUR"
    org.save()

    User = get_user_model()
    users = list(User.objects.filter(profile__is_demo=True).order_by("id"))
    first, last = FIRST[locale], LAST[locale]
    regions = REGIONS[locale]
    for i, user in enumerate(users):
        if user.username in STAFF[locale]:
            user.first_name, user.last_name = STAFF[locale][user.username]
        elif user.username.startswith("manager"):
            region = Territory.objects.filter(manager=user, parent__isnull=True).values_list("code", flat=True).first()
            user.first_name, user.last_name = first[(i + 5) % len(first)], f"({regions.get(region, region)})"
        else:
            user.first_name, user.last_name = first[i % len(first)], last[(i * 7) % len(last)]
    User.objects.bulk_update(users, ["first_name", "last_name"])
    Profile.objects.filter(user__in=users).update(language=locale)

    words = WORDS[locale]
    territories = list(Territory.objects.order_by("path"))
    names = {}
    for t in territories:
        parts = t.code.split("-")
        base = regions.get(parts[0], t.name)
        if len(parts) == 1:
            t.name = base
        else:
            label = [base]
            for part in parts[1:]:
                if part.startswith("D"):
                    label.append(f"{words['district']} {part[1:]}")
                elif part.startswith("T"):
                    label.append(f"{words['territory']} {part[1:]}")
                else:
                    label.append(part)
            t.name = " ".join(label)
        names[t.pk] = t.name
    Territory.objects.bulk_update(territories, ["name"])

    for code, name in PLANTS[locale].items():
        Plant.objects.filter(code=code).update(name=name)
    for english, local in WORK_CENTERS[locale].items():
        WorkCenter.objects.filter(name=english).update(name=local)

    accounts = list(Account.objects.order_by("id").only("id", "name", "city"))
    a, b, c = ACCOUNT_A[locale], ACCOUNT_B[locale], ACCOUNT_C[locale]
    for i, account in enumerate(accounts):
        account.name = f"{a[i % len(a)]} {b[(i * 3) % len(b)]} {c[(i * 5) % len(c)]}"
    Account.objects.bulk_update(accounts, ["name"], batch_size=5000)
