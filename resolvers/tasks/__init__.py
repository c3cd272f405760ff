"""Work prompts (警务通工作提示): the tasks of officers, committee staff and grid workers, read from
what is pending in the other domains. A read model: it has no tables of its own."""

from __future__ import annotations

from sqlalchemy import MetaData

from gateway.kernel import Domain
from resolvers.tasks.queries import TaskQuery
from resolvers.tasks.subscriptions import TaskSubscription

DOMAIN = Domain(name="tasks", metadata=MetaData(), query=TaskQuery, subscription=TaskSubscription)
