"""The words and error texts generated workspaces are made of (docs/instantly-api.md §3.3).

SMTP errors are the shapes Instantly passes through in ``status_message``: the provider's own
response line, nodemailer's ``code`` / ``command`` / ``e_message`` and the numeric code.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FIRST_NAMES",
    "LAST_NAMES",
    "PROVIDER_WEIGHTS",
    "SMTP_ERRORS",
    "STATUS_WEIGHTS",
    "STEMS",
    "SUFFIXES",
    "TAGS",
    "TLDS",
    "WARMUP_WEIGHTS",
]

_FIRST_WORDS = (
    "james mary john patricia robert jennifer michael linda david elizabeth william barbara "
    "richard susan joseph jessica thomas sarah charles karen daniel lisa matthew nancy "
    "anthony betty mark sandra paul ashley steven emily andrew donna joshua michelle kevin "
    "carol brian amanda george melissa timothy deborah ryan stephanie jason rebecca jacob "
    "laura nicholas sharon eric cynthia jonathan kathleen noah olivia liam emma lucas sofia "
    "mateo ana"
)
FIRST_NAMES = tuple(_FIRST_WORDS.split())
_LAST_WORDS = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez "
    "lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson "
    "white harris sanchez clark ramirez lewis robinson walker young allen king wright scott "
    "torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter "
    "roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart "
    "morris murphy cook rogers"
)
LAST_NAMES = tuple(_LAST_WORDS.split())
_STEMS_WORDS = (
    "acme northwind globex initech umbrella stark wayne hooli vandelay soylent tyrell "
    "cyberdyne wonka aperture bluepeak brightpath swiftline truenorth clearwater primeleaf "
    "ironclad silverline redwood oakridge summit harbor beacon lumen orbit nimbus vertex "
    "zenith cobalt"
)
STEMS = tuple(_STEMS_WORDS.split())
SUFFIXES = (
    "mail",
    "hq",
    "labs",
    "group",
    "digital",
    "growth",
    "media",
    "outreach",
    "sales",
    "team",
)
TLDS = (".com", ".io", ".co", ".net", ".ai")

# (provider_code, weight %): §3.3 codes.
PROVIDER_WEIGHTS = ((2, 45), (3, 30), (1, 18), (4, 3), (8, 3), (11, 1))
STATUS_WEIGHTS = ((1, 84), (2, 5), (3, 2), (-1, 5), (-2, 2), (-3, 2))
WARMUP_WEIGHTS = ((1, 78), (0, 17), (-1, 2.5), (-2, 1.5), (-3, 1))

SMTP_ERRORS: dict[int, tuple[dict[str, Any], ...]] = {
    -1: (
        {
            "code": "EAUTH",
            "command": "AUTH PLAIN",
            "response": "535-5.7.8 Username and Password not accepted. For more information, go to "
            "535 5.7.8  https://support.google.com/mail/?p=BadCredentials",
            "e_message": "Invalid login: 535-5.7.8 Username and Password not accepted",
            "responseCode": 535,
        },
        {
            "code": "EAUTH",
            "command": "AUTH LOGIN",
            "response": "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is "
            "disabled for the Tenant.",
            "e_message": "Invalid login: 535 5.7.139 Authentication unsuccessful",
            "responseCode": 535,
        },
        {"code": "ETIMEDOUT", "command": "CONN", "response": "", "e_message": "Connection timeout"},
    ),
    -2: (
        {
            "code": "EENVELOPE",
            "command": "RCPT TO",
            "response": "550 5.4.1 Recipient address rejected: Access denied.",
            "e_message": "error: rcpt to command failed: 550 5.4.1 recipient address rejected: "
            "access denied",
            "responseCode": 550,
        },
        {
            "code": "EENVELOPE",
            "command": "RCPT TO",
            "response": "452 4.2.2 The email account that you tried to reach is over quota.",
            "e_message": "error: rcpt to command failed: 452 4.2.2 over quota",
            "responseCode": 452,
        },
    ),
    -3: (
        {
            "code": "EENVELOPE",
            "command": "DATA",
            "response": "550-5.4.5 Daily user sending limit exceeded. For more information on Gmai",
            "e_message": "error: data command failed: 550-5.4.5 daily user sending limit exceeded",
            "responseCode": 550,
        },
        {
            "code": "EMESSAGE",
            "command": "DATA",
            "response": "554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to "
            "process message due to a permanent exception",
            "e_message": "error: data command failed: 554 5.2.0 outboundspamexception",
            "responseCode": 554,
        },
    ),
}

TAGS = (
    ("Client A", "Sending accounts of Client A"),
    ("Client B", "Sending accounts of Client B"),
    ("Client C", "Sending accounts of Client C"),
    ("Agency", "The agency's own outreach"),
    ("Warmup pool", None),
)
