"""Text around a message: greetings, sign-offs and signatures, quoted reply chains, forward headers.

None of them writes a name: whose name would it be? They add what real messages carry around the
part that matters (phone numbers, mailbox addresses, dates, reference numbers, boilerplate), so a
model learns that none of it is the answer: not the support address in a quoted reply, not the date
of a forward, not a disclaimer copied into a notes field.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from formtune.formatters import Formatters
from formtune_augment.spots import phone, reference

GREETINGS = ("Hi,", "Hello,", "Hi there,", "Hello team,", "Good morning,", "Good afternoon,", "Dear Sir or Madam,",
             "To whom it may concern,", "Hey!", "Hi all,", "Dear team,", "Greetings,", "Morning,")
SIGN_OFFS = ("Thanks,", "Thank you,", "Best regards,", "Kind regards,", "Cheers,", "Best,", "Many thanks!",
             "Regards,", "Thanks in advance.", "Have a nice day!", "Talk soon,")
SIGNATURE_LINES = (
    "Sent from my iPhone", "Sent from my Android phone", "Get Outlook for iOS", "Sent from my mobile, excuse typos",
    "Please consider the environment before printing this e-mail.",
    "This e-mail and any attachments are confidential and intended solely for the addressee.",
    "If you received this message in error, please delete it and notify the sender.",
    "Office hours: Mon-Fri 9:00-17:00", "I am out of office on Fridays.", "My working hours may not be your working hours.",
)
MAILBOXES = ("support", "help", "service", "info", "noreply", "no-reply", "orders", "events", "office", "team")
DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com", "helpdesk.example.net")
SUBJECTS = ("Your request", "Re: question", "Follow-up", "Message from the website", "Enquiry", "(no subject)", "Update")
ACKNOWLEDGEMENTS = (
    "Thank you for contacting us. We will get back to you within 2 business days.",
    "We have received your message and a member of our team will reply shortly.",
    "Thanks for reaching out! Could you tell us a bit more?",
    "Your request has been logged. Please do not reply to this automated message.",
    "Could you please send us the details again? Our system lost the attachment.",
)


def mailbox(rng: random.Random) -> str:
    return f"{rng.choice(MAILBOXES)}@{rng.choice(DOMAINS)}"


def some_date(rng: random.Random) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(3 * 365))


class Greeting:
    name = "greeting"
    description = "a greeting line before the message"

    def augment(self, text: str, *, output: Any, keep: Sequence[str], rng: random.Random, task: Any) -> str:
        return f"{rng.choice(GREETINGS)}{rng.choice([' ', chr(10), chr(10) * 2])}{text}"


class Signature:
    name = "signature"
    description = "a sign-off and a signature block (phone numbers, disclaimers, 'sent from my phone')"

    def augment(self, text: str, *, output: Any, keep: Sequence[str], rng: random.Random, task: Any) -> str:
        lines = [rng.choice(SIGN_OFFS)] if rng.random() < 0.7 else []
        block = []
        if rng.random() < 0.6:
            block.append(f"{rng.choice(['Tel', 'Phone', 'Mobile', 'M', 'Direct'])}: {phone(rng)}")
        if rng.random() < 0.6:
            block.append(rng.choice(SIGNATURE_LINES))
        if block and rng.random() < 0.5:
            block.insert(0, "--")
        return "\n".join([text, *([""] if rng.random() < 0.5 else []), *lines, *block]) if lines or block else text


class ReplyChain:
    name = "reply-chain"
    description = "an earlier message quoted below the new one (a date, a mailbox, a reference number)"

    def augment(self, text: str, *, output: Any, keep: Sequence[str], rng: random.Random, task: Any) -> str:
        fmt = Formatters(rng)
        when = fmt.date(some_date(rng))
        sender = f"{rng.choice(['Customer Service', 'Support', 'The Team', 'Help Desk', 'Front Office'])} <{mailbox(rng)}>"
        body = [rng.choice(ACKNOWLEDGEMENTS)]
        if rng.random() < 0.6:
            body.append(f"Your reference: {reference(rng)}")
        if rng.random() < 0.5:
            header = f"On {when}, {sender} wrote:"
            quoted = "\n".join(f"> {line}" for line in body)
        else:
            header = "\n".join(["-----Original Message-----", f"From: {sender}", f"Sent: {when}",
                                f"Subject: {rng.choice(SUBJECTS)}"])
            quoted = "\n".join(body)
        return f"{text}\n\n{header}\n{quoted}"


class Forward:
    name = "forward"
    description = "a forwarded-message header above the message (a mailbox, a date, a subject)"

    def augment(self, text: str, *, output: Any, keep: Sequence[str], rng: random.Random, task: Any) -> str:
        fmt = Formatters(rng)
        lines = [rng.choice(["---------- Forwarded message ---------", "Begin forwarded message:", "FW:",
                             "-------- Original message --------"]),
                 f"From: {rng.choice(['Web form', 'Website', 'Inbox', 'Contact form'])} <{mailbox(rng)}>",
                 f"Date: {fmt.date(some_date(rng))}",
                 f"Subject: {rng.choice(['Fwd: ', 'FW: ', ''])}{rng.choice(SUBJECTS)}",
                 f"To: {mailbox(rng)}"]
        if rng.random() < 0.5:
            lines.pop(rng.randrange(1, len(lines)))
        return "\n".join(lines) + "\n\n" + text
