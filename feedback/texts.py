"""Customer-facing texts of the built-in survey kinds, in every language through Django's i18n.

A survey may override any of them with its own wording in English, Turkish and Traditional
Chinese (``Survey.text``); these are the defaults, and the only texts of NPS, CSAT and CES
surveys nobody has reworded.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# (low, high) of each kind's scale.
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7), "custom": (1, 5)}

QUESTION = {
    "nps": _("How likely is it that you would recommend us to a friend or colleague?"),
    "csat": _("How satisfied were you with the help you received?"),
    "ces": _("The company made it easy for me to handle my issue."),
    "custom": _("How would you rate your experience with us?"),
}

SUBJECT = {
    "nps": _("Would you recommend us? One click to tell us"),
    "csat": _("How did we do? One click to tell us"),
    "ces": _("Was it easy to get help? One click to tell us"),
    "custom": _("We would like your opinion"),
}

REMINDER_SUBJECT = {
    "nps": _("Reminder: would you recommend us?"),
    "csat": _("Reminder: how did we do?"),
    "ces": _("Reminder: was it easy to get help?"),
    "custom": _("Reminder: we would like your opinion"),
}

# Labels at the two ends of the scale.
LOW_LABEL = {
    "nps": _("Not at all likely"),
    "csat": _("Very dissatisfied"),
    "ces": _("Strongly disagree"),
    "custom": _("Very poor"),
}
HIGH_LABEL = {
    "nps": _("Extremely likely"),
    "csat": _("Very satisfied"),
    "ces": _("Strongly agree"),
    "custom": _("Excellent"),
}

# Every point of the CSAT and CES scales, for screen readers and the email.
POINT_LABELS = {
    "csat": {
        1: _("Very dissatisfied"),
        2: _("Dissatisfied"),
        3: _("Neither satisfied nor dissatisfied"),
        4: _("Satisfied"),
        5: _("Very satisfied"),
    },
    "ces": {
        1: _("Strongly disagree"),
        2: _("Disagree"),
        3: _("Somewhat disagree"),
        4: _("Neither agree nor disagree"),
        5: _("Somewhat agree"),
        6: _("Agree"),
        7: _("Strongly agree"),
    },
}

# The follow-up question asked after the score, by score band.
FOLLOW_UP = {
    "nps": {
        "detractor": _("What is the main reason for your score? What should we do better?"),
        "passive": _("What is the main reason for your score? What would make it a 10?"),
        "promoter": _("What is the main reason for your score? What do you like most?"),
    },
    "csat": {
        "detractor": _("We are sorry. What went wrong?"),
        "passive": _("What could we have done better?"),
        "promoter": _("Great to hear! What did we do well?"),
    },
    "ces": {
        "detractor": _("What made it hard for you?"),
        "passive": _("What would have made it easier?"),
        "promoter": _("What made it easy for you?"),
    },
    "custom": {
        "detractor": _("What is the main reason for your score?"),
        "passive": _("What is the main reason for your score?"),
        "promoter": _("What is the main reason for your score?"),
    },
}
FOLLOW_UP_ANY = _("What is the main reason for your score?")
