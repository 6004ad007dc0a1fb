"""The storm digest: many new alerts told as one message, grouped by step and condition, with
a picker that opens any alert still in trouble with its own advice and buttons.

When alerts become a digest is decided in `bot.core.storm`; this module only lays the summary
out within Slack's limits (50 blocks, 100 options in a select). Pure: no I/O.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.core.i18n import t, t_count
from bot.core.inputs import plain
from bot.core.lifecycle import AlertState
from bot.core.storm import Group, Member, Summary, pickable
from bot.slack import ids
from bot.slack.render.formatting import (
    CONDITION_ICONS,
    HEADER_MAX,
    RESOLVED_ICON,
    SECTION_MAX,
    TEXT_MAX,
    SlackMessage,
    escape,
    title,
    truncate,
)

PICKER_MAX = 100  # options Slack takes in one static select
GROUPS_MAX = 40  # sections, under Slack's 50 blocks per message
OPTION_MAX = 75  # characters of an option's label


def _names(label: str, names: list[str], lang: str, room: int) -> str:
    """`label` with as many names as fit in `room` characters, then "and N more"."""
    shown: list[str] = []
    for index, name in enumerate(names):
        more = t(lang, "digest.more", n=len(names) - index)
        candidate = t(lang, label, names=", ".join([*shown, name]))
        if len(candidate) + len(more) + 2 > room and shown:
            return t(lang, label, names=", ".join(shown)) + " " + more
        shown.append(name)
    return t(lang, label, names=", ".join(shown))


def _open_name(member: Member, lang: str) -> str:
    """A tenant still in trouble (mrkdwn); one someone is on says so."""
    name = escape(member.tenant)
    if member.state is AlertState.ACKNOWLEDGED:
        return f"{name} ({t(lang, 'state_word.acknowledged')})"
    if member.state is AlertState.SNOOZED:
        return f"{name} ({t(lang, 'state_word.snoozed')})"
    return name


def _group_text(group: Group, lang: str) -> str:
    headline = escape(title(group.condition, group.step, lang))
    if group.open:
        icon = CONDITION_ICONS[group.condition]
        line = t_count(lang, "digest.group", group.tenants, title=headline)
    else:
        icon = RESOLVED_ICON
        line = t_count(lang, "digest.group_recovered", group.tenants, title=headline)
    parts = [f"{icon} *{line}*"]
    room = (SECTION_MAX - len(parts[0]) - 10) // 2
    if group.open:
        parts.append(_names("digest.open", [_open_name(m, lang) for m in group.open], lang, room))
    if group.recovered:
        recovered = [escape(m.tenant) for m in group.recovered]
        parts.append(_names("digest.recovered", recovered, lang, room))
    return truncate("\n".join(parts), SECTION_MAX, lang)


def render_digest(summary: Summary, lang: str) -> SlackMessage:
    """The digest message: header, what it is, one section per step and condition, the
    picker while anything is still in trouble."""
    if summary.all_recovered:
        header = t_count(lang, "digest.title_recovered", summary.total)
        icon = RESOLVED_ICON
    else:
        header = t_count(lang, "digest.title", summary.total)
        icon = ":warning:"
    blocks: list[Block] = [
        HeaderBlock(text=truncate(header, HEADER_MAX, lang)),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=t(lang, "digest.count", open=summary.open, total=summary.total)
                    + " · "
                    + t(lang, "digest.intro")
                )
            ]
        ),
    ]
    for group in summary.groups[:GROUPS_MAX]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_group_text(group, lang))))
    choices = pickable(summary, PICKER_MAX)
    if choices:
        options = [
            Option(
                text=truncate(
                    plain(f"{m.tenant} · {title(m.condition, m.step, lang)}"), OPTION_MAX, lang
                ),
                value=str(m.alert_id),
            )
            for m in choices
        ]
        blocks.append(
            ActionsBlock(
                block_id="digest",
                elements=[
                    StaticSelectElement(
                        action_id=ids.ACTION_DIGEST_PICK,
                        placeholder=t(lang, "digest.pick"),
                        options=options,
                    )
                ],
            )
        )
        hint = t(lang, "digest.pick_hint")
        if summary.open > len(choices):
            hint += " " + t(lang, "digest.pick_more", n=len(choices))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=hint)]))
    lines = [f"{icon} {header}"]
    for group in summary.groups[:GROUPS_MAX]:
        lines.append(
            t_count(
                lang,
                "digest.group",
                group.tenants,
                title=escape(title(group.condition, group.step, lang)),
            )
        )
    return SlackMessage(
        text=truncate("\n".join(lines), TEXT_MAX, lang), blocks=[b.to_dict() for b in blocks]
    )
