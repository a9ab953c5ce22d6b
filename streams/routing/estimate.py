"""Honest wait estimates for a customer waiting for a human.

The estimate for one waiting customer combines:
- their position: the handoffs ranked ahead of them (aged priority) that the same agents
  could take, less the free slots of those agents;
- the agents who can take them: the concurrent slots of the eligible agents on shift, each
  freeing at the rate of the queue's recent handle times;
- customers ahead who give up: the measured abandonment rate per waiting customer
  (abandons over time waited, the usual patience estimator), so position shrinks faster
  in a queue where people leave;
- customers who will jump ahead: arrivals of more urgent priority within the window in which
  their priority still beats this customer's aged one;
- an Erlang C baseline (`call_center_tools.erlang_c`, a zero-dependency implementation of the
  numerically stable recursion), blended in while the queue has measured few handle times.

Beside that queue model the estimator reads three predictors that need no model of the desk:
the current wait of the customer at the head of the line (head of line), the wait of the last
customer of the queue to reach an agent (last to enter service), and the position divided by
the queue's measured completion rate (completions per second over the recent window, which
folds in how many agents really work the queue), and the recent mean wait of answered
customers who joined in the same state (`WaitHistory`: place in line and priority). `Blend`
weighs the five by least squares
over recently answered customers, shrunk toward the queue model alone, and replaces the model
only while it has beaten it on those customers (each scored before it was learned from): a
desk where the model's picture of the agents is poor (who is on shift, who is really free)
leans on the predictors that are measured, and one where the model is right keeps it.

The announced range is calibrated online: `Calibration` keeps the log-ratio of actual to
predicted waits of recently answered customers; its quantiles give the range, so the share
of waits inside the range tracks the chosen coverage whatever the true handle-time
distribution is. The point is the blend's figure where the blend is used (least squares
aims at the mean wait); otherwise the model's, debiased by the median log-ratio.

`naive_wait` is the textbook position x average handle time / agents, kept to measure
against. Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from call_center_tools import erlang_c

from warmhandoff.streams.contract.models import WaitEstimate
from warmhandoff.streams.core.transfer import describe_wait
from warmhandoff.streams.routing.blend import Blend
from warmhandoff.streams.routing.history import WaitHistory

METHOD = "queue-model"
_OFFSET = 15.0  # seconds added before taking log-ratios, so near-zero waits stay finite
MIN_CALIBRATION = 30  # answered customers before the measured spread replaces the prior
MIN_HANDLE_SAMPLES = 20  # handle times before their distribution replaces the mean


def erlang_c_wait(arrivals_per_second: float, handle_seconds: float, servers: int) -> float:
    """The Erlang C average speed of answer (seconds) of a queue in steady state.

    Infinite when the offered load reaches the servers (the queue grows without bound).
    """
    if arrivals_per_second <= 0:
        return 0.0
    if servers <= 0:
        return math.inf
    load = arrivals_per_second * handle_seconds  # Erlangs
    if load >= servers:
        return math.inf
    waiting = float(erlang_c(load, servers))
    return waiting * handle_seconds / (servers - load)


def naive_wait(position: int, handle_seconds: float, agents: int) -> float:
    """The naive formula: position (1 = next) x average handle time / agents."""
    if agents <= 0:
        return math.inf
    return position * handle_seconds / agents


@dataclass(slots=True)
class QueueStats:
    """What a queue measured recently: handle times, arrivals by priority, abandonment."""

    handle_prior_seconds: float
    window_seconds: float = 1800.0
    handle_times: deque[float] = field(default_factory=lambda: deque(maxlen=200))
    arrivals: deque[tuple[datetime, int]] = field(default_factory=deque)
    outcomes: deque[tuple[datetime, float, bool]] = field(default_factory=deque)

    completions: deque[datetime] = field(default_factory=deque)
    last_answered_seconds: float | None = None  # the wait of the last customer answered

    _sorted: list[float] = field(default_factory=list)
    _suffix: list[float] = field(default_factory=list)
    # Figures recomputed only when the measurements or `now` change: every waiting customer's
    # estimate reads them on every event.
    _version: int = 0
    _memo: dict[str, tuple[object, object]] = field(default_factory=dict)

    def _cached(self, name: str, key: object) -> object | None:
        found = self._memo.get(name)
        return found[1] if found is not None and found[0] == (self._version, key) else None

    def _keep(self, name: str, key: object, value: object) -> None:
        self._memo[name] = ((self._version, key), value)

    def add_handle_time(self, seconds: float, at: datetime | None = None) -> None:
        """A chat of this queue ended after `seconds` (at `at`, when known)."""
        self.handle_times.append(max(0.0, seconds))
        self._sorted.clear()
        self._version += 1
        if at is not None:
            self.completions.append(at)

    def residual_seconds(self, elapsed: float) -> float:
        """Expected time left of a chat that has lasted `elapsed` seconds.

        From the measured handle times longer than `elapsed` (a chat near its usual end is
        likely to end soon); with too few, a share of the mean handle time.
        """
        handle = self.handle_seconds()
        if len(self.handle_times) < MIN_HANDLE_SAMPLES:
            return max(handle - elapsed, 0.25 * handle)
        if not self._sorted:
            self._sorted = sorted(self.handle_times)
            suffix = [0.0] * (len(self._sorted) + 1)
            for i in range(len(self._sorted) - 1, -1, -1):
                suffix[i] = suffix[i + 1] + self._sorted[i]
            self._suffix = suffix
        first = bisect_right(self._sorted, elapsed)
        longer = len(self._sorted) - first
        if longer < 3:
            return 0.25 * handle
        return (self._suffix[first] - elapsed * longer) / longer

    def add_arrival(self, at: datetime, priority: int) -> None:
        """A handoff entered the queue."""
        self.arrivals.append((at, priority))
        self._version += 1

    def add_outcome(self, at: datetime, waited: float, abandoned: bool) -> None:
        """A waiting customer was answered, or gave up, after `waited` seconds."""
        self.outcomes.append((at, max(0.0, waited), abandoned))
        self._version += 1
        if not abandoned and waited > 0:  # the last customer who queued and was answered
            self.last_answered_seconds = waited

    def forget_before(self, cutoff: datetime) -> None:
        """Drop arrivals and outcomes older than `cutoff`."""
        before = len(self.arrivals) + len(self.outcomes) + len(self.completions)
        while self.arrivals and self.arrivals[0][0] < cutoff:
            self.arrivals.popleft()
        while self.outcomes and self.outcomes[0][0] < cutoff:
            self.outcomes.popleft()
        while self.completions and self.completions[0] < cutoff:
            self.completions.popleft()
        if len(self.arrivals) + len(self.outcomes) + len(self.completions) != before:
            self._version += 1

    @property
    def samples(self) -> int:
        """Handle times measured."""
        return len(self.handle_times)

    def handle_seconds(self) -> float:
        """Mean recent handle time, shrunk toward the prior while samples are few."""
        found = self._cached("handle", None)
        if isinstance(found, float):
            return found
        n = len(self.handle_times)
        weight = 5.0
        mean = (sum(self.handle_times) + weight * self.handle_prior_seconds) / (n + weight)
        self._keep("handle", None, mean)
        return mean

    def abandon_rate(self) -> float:
        """Abandonments per second of waiting, per waiting customer (0 until one is seen)."""
        found = self._cached("abandon", None)
        if isinstance(found, float):
            return found
        waited = sum(w for _, w, _ in self.outcomes)
        gave_up = sum(1 for _, _, a in self.outcomes if a)
        rate = 0.0 if not gave_up or waited <= 0 else gave_up / max(waited, 60.0)
        self._keep("abandon", None, rate)
        return rate

    def completion_rate(self, now: datetime) -> float:
        """Chats ended per second over the window (or since the first, at least 5 minutes)."""
        if not self.completions:
            return 0.0
        span = min(self.window_seconds, (now - self.completions[0]).total_seconds())
        return len(self.completions) / max(span, 300.0)

    def arrival_rates(self, now: datetime) -> dict[int, float]:
        """Arrivals per second by priority over the window (or since the first arrival)."""
        if not self.arrivals:
            return {}
        found = self._cached("arrivals", now)
        if isinstance(found, dict):
            return found
        span = min(self.window_seconds, (now - self.arrivals[0][0]).total_seconds())
        span = max(span, 300.0)  # a few early arrivals are not a rate
        rates: dict[int, float] = {}
        for _, priority in self.arrivals:
            rates[priority] = rates.get(priority, 0.0) + 1.0 / span
        self._keep("arrivals", now, rates)
        return rates


@dataclass(frozen=True, slots=True)
class QueueView:
    """What the estimator needs to know about one waiting customer's situation."""

    ahead: int  # handoffs ranked ahead that the same agents could take
    slots: int  # concurrent chats of the eligible agents on shift
    free: int  # of those, free now
    elapsed: tuple[float, ...]  # how long each busy slot's chat has lasted (0: unknown)
    agents: int  # eligible agents on shift
    priority: int
    waited_seconds: float  # on the aging clock (the SLA clock)
    points_per_minute: float
    head_seconds: float = 0.0  # queue wait of the customer at the head of the line ahead
    credit_seconds: float = 0.0  # this customer's credited waiting
    credits: tuple[tuple[int, float], ...] = ()  # credited waiting by priority


def _drain_seconds(
    needed: int, busy_rate: float, busy: int, fresh_rate: float, abandon_rate: float
) -> float:
    """Expected time until `needed` handoffs ahead of and including this one have left.

    Each step ends at the first of a chat ending (the busy slots' summed hazard, one over
    each chat's expected time left) or one of the customers still ahead giving up. A slot
    whose chat ended takes the next customer, so its hazard becomes a fresh chat's. The
    steps' means add up.
    """
    total = 0.0
    rate = busy_rate
    for step in range(needed):
        ahead = needed - 1 - step
        total += 1.0 / (rate + abandon_rate * ahead)
        if busy:
            rate += fresh_rate - rate / busy
    return total


def position_wait(view: QueueView, stats: Sequence[QueueStats], now: datetime) -> float:
    """The expected wait from position, slots, chats in progress, abandonment and jumpers."""
    if view.slots <= 0:
        return math.inf
    needed = view.ahead + 1 - view.free
    if needed <= 0:
        return 0.0
    handle = _mean(s.handle_seconds() for s in stats)
    busy = view.slots - view.free
    elapsed = list(view.elapsed[:busy]) + [0.0] * max(0, busy - len(view.elapsed))
    busy_rate = sum(1.0 / max(1.0, _mean(s.residual_seconds(a) for s in stats)) for a in elapsed)
    fresh_rate = 1.0 / handle
    abandon = _mean(s.abandon_rate() for s in stats)
    rates: dict[int, float] = {}
    for s in stats:
        for priority, rate in s.arrival_rates(now).items():
            rates[priority] = rates.get(priority, 0.0) + rate
    wait = _drain_seconds(needed, busy_rate, busy, fresh_rate, abandon)
    if view.points_per_minute <= 0:
        return wait
    credits = dict(view.credits)
    for _ in range(4):  # fixed point: jumpers lengthen the wait, which lets more jump
        jumpers = 0.0
        for priority, rate in rates.items():
            # A newcomer of this priority goes ahead while its lead (in points, and in
            # credited waiting) outlasts what this customer has gained by waiting.
            window = (view.priority - priority) * 60.0 / view.points_per_minute
            window += credits.get(priority, 0.0) - view.credit_seconds - view.waited_seconds
            if window <= 0:
                continue
            jumpers += rate * max(0.0, min(window, wait))
        wait = _drain_seconds(needed + round(jumpers), busy_rate, busy, fresh_rate, abandon)
    return wait


def baseline_wait(view: QueueView, stats: Sequence[QueueStats], now: datetime) -> float:
    """Erlang C's mean wait of a customer who has to wait: handle / (slots - load).

    The steady-state figure for the queue's recent arrival rate and handle time; infinite
    when the load reaches the slots.
    """
    arrivals = sum(sum(s.arrival_rates(now).values()) for s in stats)
    handle = _mean(s.handle_seconds() for s in stats)
    if view.slots <= 0 or arrivals * handle >= view.slots:
        return math.inf
    # erlang_c_wait is the mean over every customer; divided by the chance of waiting it is
    # the mean over those who wait, which this customer is.
    load = arrivals * handle
    chance = float(erlang_c(load, view.slots)) if load > 0 else 0.0
    return (
        erlang_c_wait(arrivals, handle, view.slots) / chance if chance > 0 else handle / view.slots
    )


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


@dataclass(slots=True)
class Calibration:
    """Recent log-ratios of actual to predicted waits: the debiasing and the range width."""

    coverage: float = 0.86
    size: int = 400
    _recent: deque[float] = field(default_factory=deque)
    _sorted: list[float] = field(default_factory=list)

    def observe(self, predicted: float, actual: float) -> None:
        """An answered customer: what was predicted when they joined, and what they waited."""
        if not math.isfinite(predicted):
            return  # nobody was on shift for them: no model prediction to calibrate
        ratio = math.log((max(0.0, actual) + _OFFSET) / (max(0.0, predicted) + _OFFSET))
        self._recent.append(ratio)
        insort(self._sorted, ratio)
        if len(self._recent) > self.size:
            self._sorted.remove(self._recent.popleft())

    @property
    def samples(self) -> int:
        """Customers observed."""
        return len(self._recent)

    def quantile(self, q: float) -> float:
        """The q-quantile of the recent log-ratios."""
        data = self._sorted
        index = min(len(data) - 1, max(0, round(q * (len(data) - 1))))
        return data[index]

    def bounds(self, model_seconds: float) -> tuple[float, float, float]:
        """(point, low, high) around a model's prediction."""
        base = max(0.0, model_seconds) + _OFFSET
        if self.samples < MIN_CALIBRATION:
            # Prior until enough customers were answered: a hypoexponential wait's spread.
            return model_seconds, model_seconds * 0.3, model_seconds * 2.0 + 60.0
        tail = (1.0 - self.coverage) / 2.0
        point = base * math.exp(self.quantile(0.5)) - _OFFSET
        low = base * math.exp(self.quantile(tail)) - _OFFSET
        high = base * math.exp(self.quantile(1.0 - tail)) - _OFFSET
        return max(0.0, point), max(0.0, low), max(0.0, high)


def predictors(model: float, option: Option, now: datetime) -> tuple[float, ...]:
    """The blend's inputs: 1, the queue model, head of line, last to enter service, and
    the position over the measured completion rate (the model's figure where unmeasured)."""
    view = option.view
    last = [s.last_answered_seconds for s in option.stats if s.last_answered_seconds is not None]
    rate = sum(s.completion_rate(now) for s in option.stats)
    needed = max(0, view.ahead + 1 - view.free)
    by_rate = needed / rate if rate > 0 else model
    return (1.0, model, view.head_seconds, last[0] if last else model, by_rate)


@dataclass(frozen=True, slots=True)
class Estimate:
    """One customer's estimate: the calibrated point, the announced range, the inputs."""

    point_seconds: float
    wait: WaitEstimate
    model_seconds: float  # before calibration (the blend's figure when there is a blend)
    baseline_seconds: float  # Erlang C
    features: tuple[float, ...] = ()  # the blend's inputs (see `predictors`)
    situation: tuple[int, ...] = ()  # the state joined in, for the wait history


@dataclass(frozen=True, slots=True)
class Option:
    """One way the customer can be served: the agents of `view`, from `after_seconds` on.

    The first option is the customer as they stand; later ones are the pools a pending relax
    step opens (optional skills dropped, a broader queue's agents), once it is taken.
    """

    after_seconds: float
    view: QueueView
    stats: Sequence[QueueStats]


def estimate_wait(
    options: Sequence[Option],
    calibration: Calibration,
    now: datetime,
    *,
    unknown_seconds: float = 1200.0,
    blend: Blend | None = None,
    history: WaitHistory | None = None,
) -> Estimate:
    """The wait to announce to one waiting customer (see the module docstring).

    The model's wait is the earliest of the options. With no agent on shift in any option
    the wait is unknown: the range is wide (a quarter of `unknown_seconds` to all of it).
    """
    model = math.inf
    baseline = math.inf
    for option in options:
        wait = position_wait(option.view, option.stats, now)
        base = baseline_wait(option.view, option.stats, now)
        if (
            not any(s.samples for s in option.stats)
            and math.isfinite(base)
            and math.isfinite(wait)
            and option.view.ahead + 1 > option.view.free
        ):
            # No handle time measured yet: the model runs on the policy's assumed handle
            # time; take the steady-state figure into account as well.
            wait = (wait + base) / 2
        model = min(model, option.after_seconds + wait)
        baseline = min(baseline, option.after_seconds + base)
    if not math.isfinite(model) and blend is not None and blend.samples >= MIN_CALIBRATION:
        # Nobody on shift for the model to go on; the queue's measured waits still tell.
        last = [s.last_answered_seconds for s in options[0].stats]
        model = next((x for x in last if x is not None), math.inf)
    if not math.isfinite(model):
        low, high = unknown_seconds / 4, unknown_seconds
        wait_range = WaitEstimate(low_seconds=round(low), high_seconds=round(high), method=METHOD)
        return Estimate(unknown_seconds / 2, wait_range, model, baseline)
    features: tuple[float, ...] = ()
    situation: tuple[int, ...] = ()
    blended = False
    if blend is not None:
        features = predictors(model, options[0], now)
        if history is not None:
            view = options[0].view
            here = WaitHistory.situation(max(0, view.ahead - view.free), view.priority)
            situation = here
            past = history.predict(here)
            features = (*features, model if past is None else past)
        blended = blend.earned()
        if blended:
            model = blend.predict(features)
    point, low, high = calibration.bounds(model)
    if blended:
        # Least squares already aims at the mean wait, which the median of the log-ratios
        # would pull down toward the typical one; the range still comes from calibration.
        point = min(max(model, low), high)
    wait_range = WaitEstimate(
        low_seconds=_round_down(low), high_seconds=_round_up(max(high, low + 10)), method=METHOD
    )
    return Estimate(point, wait_range, model, baseline, features, situation)


def _round_down(seconds: float) -> int:
    return int(seconds // 5 * 5)


def _round_up(seconds: float) -> int:
    return int(-(-seconds // 5) * 5)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st ..."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


@dataclass(frozen=True, slots=True)
class Announcement:
    """What the customer was last told and when."""

    at: datetime
    wait: WaitEstimate
    position: int


def update_reason(
    last: Announcement | None,
    wait: WaitEstimate,
    position: int,
    now: datetime,
    *,
    every_seconds: float = 60.0,
    material_seconds: float = 30.0,
    material_share: float = 0.3,
) -> str | None:
    """Why the customer should hear an update now ("first", "changed", "periodic"), or None.

    Changed: the new range's middle moved by more than both `material_seconds` and
    `material_share` of the old middle. Periodic: nothing said for `every_seconds`.
    """
    if last is None:
        return "first"
    old = (last.wait.low_seconds + last.wait.high_seconds) / 2
    new = (wait.low_seconds + wait.high_seconds) / 2
    moved = abs(new - old)
    if moved > material_seconds and moved > material_share * max(old, 1.0):
        return "changed"
    if now - last.at >= timedelta(seconds=every_seconds):
        return "periodic"
    return None


def update_message(wait: WaitEstimate, position: int, reason: str) -> str:
    """The status line for the customer ("still waiting, you are 2nd")."""
    place = f"you are {ordinal(position)} in line" if position > 0 else "you are next"
    if reason == "periodic":
        return f"Thanks for waiting: {place}. The wait is {describe_wait(wait)}."
    return f"An update on your wait: {place}, and the wait is now {describe_wait(wait)}."
