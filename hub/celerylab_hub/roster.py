"""Read a roster CSV: a header row with a `username` column, one student per row.

Optional `first_name`, `last_name` and `email` columns (nbgrader's own roster fields) reach the
course's gradebook, so grade exports carry names; other columns are ignored.

Every row is checked before anything is created, and every problem is reported with its line
number, so a bad file changes nothing.
"""

from __future__ import annotations

import csv
import io

from celerylab_hub.settings import USERNAME, USERNAME_RULE


class RosterError(ValueError):
    pass


#: Roster columns that nbgrader's gradebook keeps for each student.
PROFILE_FIELDS = ("first_name", "last_name", "email")


def parse(text: str, allow_empty: bool = False) -> list[str]:
    return list(parse_profiles(text, allow_empty))


def parse_profiles(text: str, allow_empty: bool = False) -> dict[str, dict[str, str]]:
    """{username: {first_name, last_name, email: only those given}}, in roster order."""
    text = text.removeprefix("\ufeff")  # spreadsheets like to add a BOM
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "username" not in fields:
        raise RosterError("the first row must be a header with a 'username' column")
    reader.fieldnames = fields
    profiles, errors, seen = {}, [], {}
    for row in reader:
        line = reader.line_num
        raw = (row.get("username") or "").strip()
        if not raw and not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # blank line
        name = raw.lower()
        if not USERNAME.fullmatch(name):
            errors.append(f"line {line}: {raw!r} is not a valid user name ({USERNAME_RULE})")
        elif name in seen:
            errors.append(f"line {line}: {name!r} already on line {seen[name]}")
        else:
            seen[name] = line
            profiles[name] = {
                f: value for f in PROFILE_FIELDS if (value := (row.get(f) or "").strip())
            }
    if errors:
        raise RosterError("\n".join(errors))
    if not profiles and not allow_empty:
        raise RosterError("the roster lists no students")
    return profiles
