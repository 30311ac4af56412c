"""`sortingview user add|ls|rm`: the people who may sign in to the viewer and curate."""
from __future__ import annotations

import datetime

import click

from ..server.auth import UserStore, users_file
from . import main
from ._common import friendly_errors


@main.group("user")
def user() -> None:
    """Manage viewer users (sign-in tokens) of the store in $KACHERY_CLOUD_DIR.

    A user signs in to the viewer with the token printed by `sortingview user add`; curation writes also
    need the user id in the sorting's authorized users (W.set_sorting_curation_authorized_users).
    """


@user.command("add")
@click.argument("user_id")
@click.option("--replace", is_flag=True, help="Issue a new token for an existing user (the old one stops working).")
@friendly_errors
def add(user_id: str, replace: bool) -> None:
    """Create USER_ID and print its sign-in token (shown only this once; only a hash is kept)."""
    token = UserStore(users_file()).add_user(user_id, replace=replace)
    click.echo(token)
    click.echo(f"Token for {user_id} (keep it secret; paste it into the viewer's Sign in box).", err=True)


@user.command("ls")
@friendly_errors
def ls() -> None:
    """List the users and when their tokens were issued."""
    users = UserStore(users_file()).list_users()
    if not users:
        click.echo("no users; add one with `sortingview user add <user-id>`", err=True)
    for u in users:
        created = datetime.datetime.fromtimestamp(u.created, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{u.user_id}\t{created}")


@user.command("rm")
@click.argument("user_id")
@friendly_errors
def rm(user_id: str) -> None:
    """Remove USER_ID; its token stops working at once."""
    UserStore(users_file()).remove_user(user_id)
    click.echo(f"removed user {user_id}", err=True)
