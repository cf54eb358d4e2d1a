"""Counting the work of a backtracking regular expression, without a clock.

A small interpreter for Python's own parse of a pattern (`re._parser`), with the same backtracking
order as `re` (greedy, lazy and possessive repeats, atomic groups, lookarounds, back references),
that counts one step per node tried and per character compared. It never asserts a time: a pattern
whose steps grow with the square of the input is quadratic on any machine. It is only a test aid:
`re` runs the real patterns; this tells how much work they ask of a backtracking engine.
"""

from __future__ import annotations

import re
import sys
import threading
from re import _constants as C  # noqa: N812
from re import _parser

MAXREPEAT = C.MAXREPEAT


class TooMuchWork(Exception):
    pass


def _category(code, ch: str) -> bool:
    if code == C.CATEGORY_DIGIT:
        return ch.isdecimal()
    if code == C.CATEGORY_NOT_DIGIT:
        return not ch.isdecimal()
    if code == C.CATEGORY_SPACE:
        return ch.isspace()
    if code == C.CATEGORY_NOT_SPACE:
        return not ch.isspace()
    if code == C.CATEGORY_WORD:
        return ch.isalnum() or ch == "_"
    if code == C.CATEGORY_NOT_WORD:
        return not (ch.isalnum() or ch == "_")
    if code == C.CATEGORY_LINEBREAK:
        return ch == "\n"
    if code == C.CATEGORY_NOT_LINEBREAK:
        return ch != "\n"
    raise NotImplementedError(code)


class Engine:
    def __init__(self, pattern: re.Pattern, budget: int):
        self.tree = _parser.parse(pattern.pattern, pattern.flags)
        self.ignorecase = bool(pattern.flags & re.IGNORECASE)
        self.multiline = bool(pattern.flags & re.MULTILINE)
        self.dotall = bool(pattern.flags & re.DOTALL)
        self.budget = budget
        self.steps = 0

    def _step(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > self.budget:
            raise TooMuchWork(self.steps)

    # ------------------------------------------------------------------ one character
    def _same(self, a: str, b: str) -> bool:
        return a == b or (self.ignorecase and a.lower() == b.lower())

    def _in(self, items, ch: str) -> bool:
        negate, found = False, False
        chars = {ch, ch.lower(), ch.upper()} if self.ignorecase else {ch}
        for op, av in items:
            if op == C.NEGATE:
                negate = True
            elif op == C.LITERAL:
                found = found or chr(av) in chars
            elif op == C.RANGE:
                found = found or any(av[0] <= ord(c) <= av[1] for c in chars)
            elif op == C.CATEGORY:
                found = found or _category(av, ch)
            else:
                raise NotImplementedError(op)
        return found != negate

    def _one(self, op, av, s: str, i: int) -> bool:
        """Whether the single-character node matches s[i]."""
        if i >= len(s):
            return False
        ch = s[i]
        if op == C.LITERAL:
            return self._same(ch, chr(av))
        if op == C.NOT_LITERAL:
            return not self._same(ch, chr(av))
        if op == C.ANY:
            return self.dotall or ch != "\n"
        if op == C.IN:
            return self._in(av, ch)
        raise NotImplementedError(op)

    # ------------------------------------------------------------------ sequences
    def _seq(self, nodes, k: int, s: str, i: int, groups: dict, cont) -> bool:
        self._step()
        if k == len(nodes):
            return cont(i, groups)
        op, av = nodes[k]
        rest = lambda j, g: self._seq(nodes, k + 1, s, j, g, cont)  # noqa: E731
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            return self._one(op, av, s, i) and rest(i + 1, groups)
        if op == C.AT:
            return self._at(av, s, i) and rest(i, groups)
        if op == C.BRANCH:
            return any(self._seq(list(alt), 0, s, i, groups, rest) for alt in av[1])
        if op == C.SUBPATTERN:
            group, _, _, sub = av

            def close(j, g):
                return rest(j, {**g, group: (i, j)} if group else g)

            return self._seq(list(sub), 0, s, i, groups, close)
        if op == C.ATOMIC_GROUP:
            found = []
            self._seq(list(av), 0, s, i, groups, lambda j, g: found.append((j, g)) or True)
            return bool(found) and rest(*found[0])
        if op in (C.ASSERT, C.ASSERT_NOT):
            direction, sub = av
            start = i
            if direction < 0:
                width = sub.getwidth()[0]
                start = i - width
            ok = start >= 0 and self._seq(
                list(sub), 0, s, start, groups, lambda j, g: j == i if direction < 0 else True
            )
            return (ok if op == C.ASSERT else not ok) and rest(i, groups)
        if op == C.GROUPREF:
            if av not in groups:
                return False
            a, b = groups[av]
            n = b - a
            self._step(n)
            text = s[i : i + n]
            same = len(text) == n and (text == s[a:b] or (self.ignorecase and text.lower() == s[a:b].lower()))
            return same and rest(i + n, groups)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            return self._repeat(op, av, s, i, groups, rest)
        raise NotImplementedError(op)

    def _at(self, code, s: str, i: int) -> bool:
        n = len(s)

        def word(j):
            return 0 <= j < n and (s[j].isalnum() or s[j] == "_")

        if code == C.AT_BEGINNING:
            return i == 0 or (self.multiline and s[i - 1] == "\n")
        if code == C.AT_BEGINNING_STRING:
            return i == 0
        if code == C.AT_END:
            return i == n or (i == n - 1 and s[i] == "\n") or (self.multiline and i < n and s[i] == "\n")
        if code == C.AT_END_STRING:
            return i == n
        if code == C.AT_BOUNDARY:
            return word(i - 1) != word(i)
        if code == C.AT_NON_BOUNDARY:
            return word(i - 1) == word(i)
        raise NotImplementedError(code)

    def _repeat(self, op, av, s, i, groups, rest) -> bool:
        low, high, item = av
        item = list(item)
        high = sys.maxsize if high == MAXREPEAT else high
        if len(item) == 1 and item[0][0] in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            # One character at a time, as re's REPEAT_ONE: a run, then giving back one by one.
            iop, iav = item[0]
            if op == C.MIN_REPEAT:
                count = 0
                while True:
                    self._step()
                    if count >= low and rest(i + count, groups):
                        return True
                    if count >= high or not self._one(iop, iav, s, i + count):
                        return False
                    count += 1
            count = 0
            while count < high and self._one(iop, iav, s, i + count):
                self._step()
                count += 1
            if op == C.POSSESSIVE_REPEAT:
                return count >= low and rest(i + count, groups)
            while count >= low:
                self._step()
                if rest(i + count, groups):
                    return True
                count -= 1
            return False
        if op == C.POSSESSIVE_REPEAT:
            count, j, g = 0, i, groups
            while count < high:
                found = []
                self._seq(item, 0, s, j, g, lambda e, gg, found=found: found.append((e, gg)) or True)
                if not found or (found[0][0] == j and count >= low):
                    break
                (j, g), count = found[0], count + 1
            return count >= low and rest(j, g)

        def again(count, j, g) -> bool:
            self._step()

            def more(e, gg):
                return e != j and again(count + 1, e, gg)  # an empty iteration ends the loop, as in re

            if op == C.MIN_REPEAT:
                if count >= low and rest(j, g):
                    return True
                return count < high and self._seq(item, 0, s, j, g, more)
            if count < high and self._seq(item, 0, s, j, g, more):
                return True
            return count >= low and rest(j, g)

        return again(0, i, groups)

    # ------------------------------------------------------------------ what re does
    def finditer_work(self, s: str) -> int:
        """The steps `pattern.finditer(s)` (and so `sub`) asks for: a match tried at each start."""
        tree = list(self.tree)
        start = 0
        while start <= len(s):
            ends = []
            self._seq(tree, 0, s, start, {}, lambda j, g, ends=ends: ends.append(j) or True)
            start = ends[0] if ends and ends[0] > start else start + 1
        return self.steps


def work(pattern: re.Pattern, text: str, *, budget: int) -> int:
    """Steps of a backtracking engine to find every match of `pattern` in `text`; TooMuchWork past `budget`."""
    engine = Engine(pattern, budget)
    result: list = []

    def run():
        try:
            result.append(engine.finditer_work(text))
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            result.append(error)

    # Deep recursion on long inputs: a thread with a large stack.
    old_limit, old_size = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(200_000)
    threading.stack_size(512 * 1024 * 1024)
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]
