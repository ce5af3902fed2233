"""Write ``sample_emails.csv``: the CSV that ``02_bulk_disable_from_csv.ipynb`` pauses.

The emails come from the emulated workspace that notebook opens by default
(``instantly_nb.demo(accounts=3000, seed=0)``), so the sample lines up with it: 2,000 of its
accounts, in the shuffled order a spreadsheet export would have, plus a handful of rows that
every real list has: a repeated address in other case and with stray spaces, addresses that are
not in the workspace, and values that are not email addresses at all.

Same workspace, same file, byte for byte. Run it again whenever the emulator's generator changes:

    python notebooks/data/make_sample.py
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import instantly_nb

WORKSPACE_ACCOUNTS = 3000  # the notebook's DEMO_ACCOUNTS
WORKSPACE_SEED = 0  # the notebook's DEMO_SEED
SAMPLE_SIZE = 2000
OUTPUT = Path(__file__).with_name("sample_emails.csv")

# Rows a hand-kept list picks up. Position in the file, then (email, client) as written.
UNKNOWN = [
    (137, "former.employee@example.com", "Client A"),
    (981, "sales@not-in-this-workspace.com", "Client C"),
    (1712, "ceo@example.org", ""),
]
MALFORMED = [
    (58, "", "Client B"),  # an empty cell
    (644, "not-an-email", "Client C"),
    (1290, "maria.garcia@@harbor-group.com", "Client A"),
    (1855, "kevin.smith@harbor-group", "Client B"),  # no top-level domain
]
REPEAT_OF, REPEAT_AT = 10, 1401  # sample row 10 again, upper-cased, with surrounding spaces


def sample_rows() -> list[tuple[str, str]]:
    """``(email, client)`` rows in file order."""
    client = instantly_nb.demo(accounts=WORKSPACE_ACCOUNTS, seed=WORKSPACE_SEED)
    accounts = instantly_nb.read_accounts(client)
    clients = {
        email: next((t for t in tags if t.startswith("Client")), "")
        for email, tags in zip(accounts["email"], accounts["tags"], strict=True)
    }
    picked = random.Random(WORKSPACE_SEED).sample(sorted(clients), SAMPLE_SIZE)
    rows = [(email, clients[email]) for email in picked]
    known = {email.lower() for email in clients}
    extras = [(at, email, label) for at, email, label in UNKNOWN + MALFORMED]
    repeated = rows[REPEAT_OF]
    extras.append((REPEAT_AT, f"  {repeated[0].upper()}  ", repeated[1]))
    for at, email, label in sorted(extras):
        assert email.strip().lower() not in known or at == REPEAT_AT, email
        rows.insert(at, (email, label))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUTPUT, help="where to write the CSV")
    out = parser.parse_args().out
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["email", "client"])
        writer.writerows(sample_rows())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
