"""Issue an API token from the command line (for scripts and first setup); prints it once.

python manage.py create_api_token --user manager@example.com --scope write --name "CRM sync"
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.models import TokenScope
from api.services import token_create
from team.models import User


class Command(BaseCommand):
    help = "Create an API token acting for a staff member and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Email of the person the token acts for.")
        parser.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ)
        parser.add_argument("--name", required=True, help="The integration's name.")

    def handle(self, *args, **opts):
        user = User.objects.filter(email__iexact=opts["user"].strip()).first()
        if user is None:
            raise CommandError(f"No staff member with the email {opts['user']}.")
        try:
            issued = token_create(name=opts["name"], user=user, scope=opts["scope"], created_by=None)
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        self.stdout.write(issued.raw)
