"""Buttons and selects: all persistent (:class:`discord.ui.DynamicItem`), their state in the ``custom_id``.

Nothing is kept in memory per message, so every button keeps working after the bot restarts and views never pile
up in discord.py's view store. One module per feature (the ``custom_id`` formats are a contract with messages
already posted: never change them):

* :mod:`bot.views.rating` — ``tm:rate:up:<title id>`` / ``tm:rate:down:<title id>`` rate a title (answers,
  discovery posts); ``tm:ratec:…`` the same on a title card (the card is redrawn to show the new state).
* :mod:`bot.views.results` — ``tm:pick:<asker id>`` (``tm:pick`` on older answers), the select listing an answer's
  results (value: title id); choosing one opens its card. The select also carries the answer's results, so paging
  (``tm:page:prev|next:<page>``, with the disabled ``tm:pos:<page>`` between) can redraw the results and the rating
  rows from the message alone; ``tm:del`` deletes a public answer. Only the asker may use an answer's controls.
* :mod:`bot.views.likes` — ``tm:likes:prev|next:<offset>``, ``tm:unrate:<offset>:<title id>``: /likes paging and
  remove buttons.
* :mod:`bot.views.forget` — ``tm:forget:confirm|export|cancel:<user id>``: the /forget-me confirmation.

:mod:`bot.views.common` holds what they share (the error path, ◀ / ▶ buttons, title names).
"""

from __future__ import annotations

from bot.views.forget import ForgetButton
from bot.views.likes import LikesPageButton, UnrateButton
from bot.views.rating import RateButton
from bot.views.results import DeleteButton, PageButton, PageLabel, PickSelect

# Registered with the bot at start-up (``add_dynamic_items``) so that clicks on any message reach them.
DYNAMIC_ITEMS = (
    RateButton,
    PickSelect,
    PageButton,
    PageLabel,
    DeleteButton,
    LikesPageButton,
    UnrateButton,
    ForgetButton,
)
