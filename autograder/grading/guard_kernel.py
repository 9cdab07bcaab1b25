"""The IPython kernel that runs a student's notebook inside the sandbox, with a test guard.

Started by :mod:`autograder.grading.sandbox` as
``python -m autograder.grading.guard_kernel -f CONNECTION``.
Before ipykernel starts (so before any student code), this module:

1. reads the grading plan that the grader wrote into the scratch folder (the test cells'
   source from the gradebook and a per-submission HMAC key) and deletes it;
2. starts the *grader thread*, which alone holds the key and the compiled test code;
3. installs an audit hook that only listens for the grader's own events.

The notebook the kernel receives has its test cells replaced by
``sys.audit("funlm.grader.test", grade_id, nonce)``. For that event the main thread hands the
test to the grader thread, which runs the gradebook's test code in a fresh thread with trusted
bindings (the setup cells' names, a private copy of ``funlm.grading``, a private copy of the
builtins) and, only when the code ran to its end with the interpreter intact, returns an HMAC
over ``(grade_id, nonce)``. The grader outside the sandbox gives a test cell its points only
when that evidence is present and valid, so a test cell that was emptied, rewritten, skipped
(IPython input/AST transformers, patched ``run_cell``, custom exception handlers, fake output)
or run against tampered helpers earns nothing.

After the trusted setup cells have run, ``sys.audit("funlm.grader.arm")`` snapshots the trusted
names and installs a second, stateless audit hook that denies what could reach the grader
thread's secrets or leave the sandbox's intent: tracing and profiling, ``gc`` introspection,
``ctypes``, new processes, sockets, reading ``/proc/*/mem``, replacing a function's code, and
frame access in the grader thread. Every denial and every oddity seen is written to the
event log (one line each) that the grader reads back for the ``reason`` column.

Limits (stated, not hidden): Python has no boundary inside one interpreter. Student code that
a test *calls* runs next to the test and could, with deliberate CPython-level tricks (objects
whose ``==`` lies, coroutine frames, monkeypatching something the test uses later in the same
test and restoring it), fool that one test's checks. It cannot forge evidence for tests it did
not run, reach the key (no ``gc``/``ctypes``/tracing/``/proc`` memory, the key lives only in
the grader thread), or leave the sandbox.
"""

from __future__ import annotations

import _hashlib
import _io
import _queue
import _signal
import _thread
import builtins
import json
import os
import sys

PLAN_ENV = "FUNLM_GRADER_PLAN"
EVENTS_ENV = "FUNLM_GRADER_EVENTS"
EVIDENCE_PREFIX = "[funlm-grader-evidence]"
TEST_EVENT = "funlm.grader.test"
ARM_EVENT = "funlm.grader.arm"

# Names that never count as trusted setup bindings.
_SKIP_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})


def evidence(key: bytes, grade_id: str, nonce: str) -> str:
    """The HMAC the grader expects for a test that passed."""
    message = f"{grade_id}\0{nonce}".encode()
    return _hashlib.hmac_digest(key, message, "sha256").hex()


# -- event log ----------------------------------------------------------------------------


def _open_log(path: str | None) -> int:
    if not path:
        return -1
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


_LOG_FD = -1


def _log(kind: str, detail: str = "", fd: int | None = None) -> None:
    target = _LOG_FD if fd is None else fd
    if target < 0:
        return
    line = (kind + "\t" + detail.replace("\n", " ")[:300] + "\n").encode("utf-8", "replace")
    try:
        os.write(target, line)
    except OSError:
        pass


# -- integrity snapshot ---------------------------------------------------------------------


# Callables that IPython/ipykernel legitimately swap while cells run.
_VOLATILE = frozenset({"input", "raw_input", "getpass", "display", "get_ipython", "exit", "quit"})


def _callables(mapping) -> dict[str, int]:
    """name -> id for the functions and classes in a namespace (data values change legally)."""
    return {
        name: id(value)
        for name, value in list(mapping.items())
        if callable(value) and name not in _VOLATILE and not name.endswith("hook")
    }


def _snapshot(trusted: dict, modules: list) -> dict:
    """Identity maps of what a test relies on: builtins, modules, classes, trusted objects.

    Taken in the main thread right after the trusted setup cells, before any student code.
    """
    snap: dict = {"builtins": _callables(builtins.__dict__), "namespaces": []}
    seen: set[int] = set()

    def add(label: str, namespace, shadow_of: tuple = ()) -> None:
        if id(namespace) not in seen:
            seen.add(id(namespace))
            snap["namespaces"].append((label, namespace, _callables(namespace), shadow_of))

    for module in modules:
        add(module.__name__, module.__dict__)
    for name, value in trusted.items():
        if type(value) is type(sys):
            add(value.__name__, value.__dict__)
            continue
        mro = tuple(cls for cls in type(value).__mro__ if cls is not object)
        for cls in mro:
            add(cls.__qualname__, cls.__dict__)
        instance_dict = getattr(value, "__dict__", None)
        if type(instance_dict) is dict:
            add(name, instance_dict, tuple(cls.__dict__ for cls in mro))
    return snap


def _make_differences():
    """The integrity comparison, bound to builtins captured before any student code ran."""
    _id, _callable, _type, _str, _sorted, _set, _len = id, callable, type, str, sorted, set, len

    def differences(snap: dict, current_builtins: dict) -> list[str]:
        problems: list[str] = []
        for name, ident in snap["builtins"].items():
            if _id(current_builtins.get(name)) != ident:
                problems.append("builtins." + name)
        for label, namespace, names, shadow_of in snap["namespaces"]:
            for key in namespace:
                if _type(key) is not _str:
                    problems.append(label + ": non-string key")
                    break
            else:
                for name, ident in names.items():
                    if _id(namespace.get(name)) != ident:
                        problems.append(label + "." + name)
                for class_dict in shadow_of:
                    for name in namespace:
                        if name not in names and _callable(class_dict.get(name)):
                            problems.append(label + "." + name + " (shadows a method)")
        for label, namespace, name, value, empty in snap.get("state", ()):
            current = namespace.get(name)
            if _id(current) != _id(value) or (empty and _len(value)):
                problems.append(label + " (tripwire state)")
        problems = _sorted(_set(problems))
        return problems[:20] if _len(problems) > 20 else problems

    return differences


# -- the grader thread ------------------------------------------------------------------------


def _grader_thread(key: bytes, codes: dict, requests, replies, done_code) -> None:
    """Owns the key; never runs student code itself (tests run in a fresh thread).

    Everything it calls is captured here, before any student code ran, so that rebinding a
    module attribute or a builtin later cannot change what this thread does.
    """
    hmac_digest = _hashlib.hmac_digest
    start, count = _thread.start_new_thread, _thread._count
    # A lock the test thread's state releases when that thread is gone (CPython <= 3.12); the
    # thread count is only a fallback: another thread ending while a test runs made it look
    # finished, and the test (still running) lost its points.
    set_sentinel = getattr(_thread, "_set_sentinel", None)
    # (published under `lock` only once held by the test thread; released when it ends)
    sentinel_code = compile("s = set_sentinel()\ns.acquire()\nlock = s", "<grader>", "exec")
    string_io, queue_type, empty = _io.StringIO, _queue.SimpleQueue, _queue.Empty
    _dict, _type, _list, _map, _exec, _object = dict, type, list, map, exec, object
    _assertion = AssertionError
    real_builtins = builtins.__dict__
    _sys = sys
    differences = _make_differences()
    armed: dict = {}
    while True:
        request = requests.get()
        if request[0] == "arm":
            armed.update(request[1])
            continue
        _, grade_id, nonce, user_ns = request
        reply = {"out": "", "err": "", "exc": None, "evidence": None, "notes": []}
        code = codes.get(grade_id)
        if code is None or not armed:
            reply["exc"] = _assertion("[grader] unknown test or grader not armed: " + grade_id)
            replies.put(reply)
            continue
        problems = differences(armed["snapshot"], real_builtins)
        if _type(user_ns) is not _dict:
            problems.append("user namespace replaced")
        if problems:
            text = ", ".join(problems)
            reply["notes"].append(("tamper", text))
            reply["exc"] = _assertion(
                "[grader integrity] 채점 환경이 바뀌어 이 테스트를 믿을 수 없습니다. 노트북이 "
                "테스트가 쓰는 함수나 모듈을 바꾸었습니다: " + text + ". 일부러 바꾼 것이 "
                "아니라면 강사에게 알려 주세요. 강사가 확인한 뒤 다시 채점할 수 있습니다."
            )
            replies.put(reply)
            continue
        namespace = _dict(user_ns)
        namespace.update(armed["trusted"])
        namespace["__builtins__"] = armed["builtins"]
        ok, errors, token = queue_type(), queue_type(), _object()
        done_ns = {"__builtins__": {}, "q": ok, "t": token}
        out, err = string_io(), string_io()
        saved = (_sys.stdout, _sys.stderr, _sys.unraisablehook)
        _sys.stdout, _sys.stderr, _sys.unraisablehook = out, err, errors.put
        before = count()
        started = {"__builtins__": {}, "set_sentinel": set_sentinel}
        steps, spaces = (code, done_code), (namespace, done_ns)
        if set_sentinel is not None:
            steps, spaces = (sentinel_code, *steps), (started, *spaces)
        # list(map(exec, ...)) keeps every frame between the thread's start and the test code
        # in C: the done-code runs only if the test code returned, and nothing the test calls
        # can reach the queue, the token or the sentinel through a frame.
        start(_list, (_map(_exec, steps, spaces),))
        passed = False
        while True:
            try:
                passed = ok.get(timeout=0.05) is token
                break
            except empty:
                lock = started.get("lock")
                if (lock.acquire(False) if lock is not None else False) or (
                    set_sentinel is None and count() <= before
                ):  # the test thread is gone
                    try:
                        passed = ok.get_nowait() is token
                    except empty:
                        passed = False
                    break
        _sys.stdout, _sys.stderr, _sys.unraisablehook = saved
        reply["out"], reply["err"] = out.getvalue(), err.getvalue()
        if passed:
            problems = differences(armed["snapshot"], real_builtins)
            if problems:
                passed = False
                text = ", ".join(problems)
                reply["notes"].append(("tamper", text))
                reply["exc"] = _assertion(
                    "[grader integrity] 테스트 도중 채점 환경이 바뀌었습니다. 테스트가 부른 "
                    "코드가 테스트가 쓰는 함수나 모듈을 바꾸었습니다: " + text + ". 일부러 "
                    "바꾼 것이 아니라면 강사에게 알려 주세요. 강사가 확인한 뒤 다시 채점할 수 "
                    "있습니다."
                )
        if passed:
            message = (grade_id + "\0" + nonce).encode()
            reply["evidence"] = hmac_digest(key, message, "sha256").hex()
        elif reply["exc"] is None:
            try:
                reply["exc"] = errors.get_nowait().exc_value
            except empty:
                reply["exc"] = _assertion(
                    "[grader] 테스트 코드가 끝까지 실행되지 않았습니다 (the test did not finish)."
                )
        replies.put(reply)


# -- audit hooks ----------------------------------------------------------------------------

_DENY_ALWAYS = frozenset(
    {
        "sys.settrace",
        "sys.setprofile",
        "sys._current_frames",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "os.exec",
        "os.system",
        "subprocess.Popen",
        "socket.__new__",
        "socket.connect",
        "socket.bind",
        "socket.getaddrinfo",
        "sys.remote_exec",
    }
)
_FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})
_CODE_ATTRS = frozenset({"__code__"})


def _code_objects(module) -> frozenset[int]:
    """ids of every code object defined in ``module``.

    Functions, methods (also behind decorators: closures and ``__wrapped__`` are followed),
    properties, static and class methods, and the functions nested in them.
    """
    code_type = type(_code_objects.__code__)
    found: set[int] = set()
    seen: set[int] = set()
    pending = list(vars(module).values())
    codes = []
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, type):
            if value.__module__ == module.__name__:
                pending += list(vars(value).values())
            continue
        for name in ("__func__", "fget", "fset", "fdel", "__wrapped__"):
            inner = getattr(value, name, None)
            if inner is not None and not isinstance(inner, type):
                pending.append(inner)
        code = getattr(value, "__code__", None)
        if type(code) is code_type and code.co_filename == module.__file__:
            codes.append(code)
            for cell in getattr(value, "__closure__", None) or ():
                try:
                    pending.append(cell.cell_contents)
                except ValueError:  # an empty cell
                    pass
    while codes:
        code = codes.pop()
        if id(code) not in found:
            found.add(id(code))
            codes += [c for c in code.co_consts if type(c) is code_type]
    return frozenset(found)


def _trusted_ctypes_callers() -> tuple[object, object, frozenset[int]]:
    """(ctypes globals, threadpoolctl globals, threadpoolctl code ids) or Nones.

    ``threadpoolctl`` (used by the course's own thread limiter and by scikit-learn) finds and
    calls BLAS's ``set_num_threads`` through ``ctypes``. Only ctypes calls made by *its* code
    objects, running with *its* module globals, are allowed; every other ctypes use stays
    blocked.
    """
    try:
        import ctypes

        import threadpoolctl
    except Exception:  # pragma: no cover - threadpoolctl is a dependency of the course
        return None, None, frozenset()
    return vars(ctypes), vars(threadpoolctl), _code_objects(threadpoolctl)


def _make_deny_hook(grader_ident: int, log_fd: int, forbidden: tuple[str, ...]):
    """A stateless hook: everything it uses is immutable or captured here."""
    get_ident, write, getframe = _thread.get_ident, os.write, sys._getframe
    _type, _str, _int, _len, _id, _denied = type, str, int, len, id, PermissionError
    deny_always, frame_attrs, code_attrs = _DENY_ALWAYS, _FRAME_ATTRS, _CODE_ATTRS
    ctypes_globals, trusted_globals, trusted_codes = _trusted_ctypes_callers()

    def trusted_ctypes_call() -> bool:
        if trusted_globals is None:
            return False
        try:
            frame = getframe(2)  # 0: this function, 1: deny, 2: the code that raised the event
        except ValueError:  # no Python caller at all
            return False
        while frame is not None and frame.f_globals is ctypes_globals:
            frame = frame.f_back
        return (
            frame is not None
            and frame.f_globals is trusted_globals
            and _id(frame.f_code) in trusted_codes
        )

    def note(kind: str, detail: str) -> None:
        try:
            write(log_fd, (kind + "\t" + detail[:300] + "\n").encode("utf-8", "replace"))
        except Exception:
            pass

    def deny(event: str, args: tuple) -> None:
        if event.startswith("ctypes."):
            if get_ident() != grader_ident and trusted_ctypes_call():
                return
            note("denied", event)
            raise _denied("blocked by the grader sandbox: " + event)
        if event in deny_always:
            note("network" if event.startswith("socket.") else "denied", event)
            raise _denied("blocked by the grader sandbox: " + event)
        n = _len(args)
        if event == "open" and n and _type(args[0]) is _str:
            path = args[0]
            if path.startswith(("/proc", "/dev/")) and ("mem" in path or "pagemap" in path):
                note("denied", "open " + path)
                raise _denied("blocked by the grader sandbox: process memory")
            for prefix in forbidden:
                if path.startswith(prefix):
                    note("forbidden-read", path)
            mode = args[1] if n > 1 else None
            if _type(mode) is _str and ("w" in mode or "a" in mode or "x" in mode or "+" in mode):
                note("write", path)
            elif _type(mode) is _int and mode & 0o3:
                note("write", path)
        elif event in ("os.remove", "os.rmdir", "shutil.rmtree", "os.rename", "os.truncate"):
            if n and _type(args[0]) is _str:
                note("delete", args[0])
        elif event == "os.symlink" and n and _type(args[0]) is _str:
            if args[0].startswith(("/proc", "/dev")):
                note("denied", "symlink " + args[0])
                raise _denied("blocked by the grader sandbox: symlink into /proc")
        elif event == "object.__setattr__" and n > 1 and args[1] in code_attrs:
            note("denied", "set " + args[1])
            raise _denied("blocked by the grader sandbox: setting " + args[1])
        elif get_ident() == grader_ident and (
            event == "sys._getframe"
            or (event == "object.__getattr__" and n > 1 and args[1] in frame_attrs)
        ):
            # only a student finalizer run by the garbage collector in the grader thread could
            # ask for a frame there: the grader's own code never does
            raise _denied("blocked by the grader sandbox: frame access in the grader thread")

    return deny


class NotAnsweredError(AssertionError):
    """A test called an answer cell that still says ``raise NotImplementedError()``."""


def _settle_libraries() -> None:
    """Let libraries the setup cells imported finish their lazy one-time set-up now.

    The integrity snapshot is taken right after this, so a library that later completes its
    own initialisation would otherwise look like tampering and void every following test:

    - ``torch``: the first ``import torch._dynamo`` (creating an optimizer, ``transformers``
      generation, ...) rebinds ``torch.manual_seed`` to a wrapped version, once;
    - ``matplotlib.pyplot``: the first figure registers pyplot's ``post_execute`` redraw
      callback with IPython.
    """
    if "torch" in sys.modules:
        import torch._dynamo  # noqa: F401
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.install_repl_displayhook()


def _is_library_callback(callback, modules) -> bool:
    """pyplot's redraw callback, registered when a figure is first drawn after arming."""
    pyplot = modules.get("matplotlib.pyplot")
    return pyplot is not None and callback is vars(pyplot).get("_draw_all_if_interactive")


def _name_of(value) -> str:
    kind = value if isinstance(value, type) else type(value)
    name = getattr(value, "__qualname__", None) or kind.__qualname__
    return f"{getattr(value, '__module__', None) or kind.__module__}.{name}"[:80]


def _hook_changes(before: dict, after: dict) -> list[str]:
    """What was added to or removed from IPython's hooks, e.g. ``+ast_transformers: x.T``."""
    changes = []
    for place in sorted(set(before) | set(after)):
        old, new = before.get(place, {}), after.get(place, {})
        changes += [f"+{place}: {new[i]}" for i in new if i not in old]
        changes += [f"-{place}: {old[i]}" for i in old if i not in new]
    return changes


def _tripwire_state(answer_keys) -> list[tuple]:
    """The delegation tripwire's state objects; between tests each is unchanged and empty."""
    namespace = vars(answer_keys)
    return [
        ("funlm.answer_keys." + name, namespace, name, namespace[name], empty)
        for name, empty in (("_ARMED", True), ("_CALLED", True), ("_KEYS", False), ("_LOCK", False))
        if name in namespace
    ]


def _load_private_grading(private_builtins: dict):
    """A private copy of funlm.grading whose globals no student code holds."""
    import importlib.util

    import funlm.grading as public

    spec = importlib.util.spec_from_file_location("_funlm_grading_trusted", public.__file__)
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__builtins__"] = private_builtins
    spec.loader.exec_module(module)
    return public, module


def install(plan_path: str, events_path: str | None) -> None:
    """Read the plan, start the grader thread and the event hook. Called before ipykernel."""
    global _LOG_FD
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    os.unlink(plan_path)
    _LOG_FD = _open_log(events_path)
    log_fd = _LOG_FD
    key = bytes.fromhex(plan.pop("key"))
    codes = {gid: compile(src, f"<test {gid}>", "exec") for gid, src in plan["tests"].items()}
    done_code = compile("q.put(t)", "<grader>", "exec")
    forbidden = tuple(plan.get("forbidden", ()))
    try:  # no other process (even with our uid) may read this one's memory
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:  # pragma: no cover - best effort
        _log("note", "prctl(PR_SET_DUMPABLE) failed")
    requests, replies = _queue.SimpleQueue(), _queue.SimpleQueue()
    grader_ident = _thread.start_new_thread(
        _grader_thread, (key, codes, requests, replies, done_code)
    )
    del key, plan
    main_ident = _thread.get_ident()
    sigmask = _signal.pthread_sigmask
    all_signals = set(_signal.valid_signals()) - {_signal.SIGKILL, _signal.SIGSTOP}
    state = {"armed": False, "stdout": None, "stderr": None, "shell": None, "hooks": None}

    def shell_hooks(shell) -> dict[str, dict[int, str]]:
        """What IPython runs around or instead of a cell: {place: {id: name}}."""
        places = {
            "input_transformers_cleanup": list(shell.input_transformers_cleanup),
            "input_transformers_post": list(shell.input_transformers_post),
            "ast_transformers": list(shell.ast_transformers),
            "custom_exceptions": list(shell.custom_exceptions),
        }
        for event, callbacks in sorted(shell.events.callbacks.items()):
            places["events." + event] = [
                f for f in callbacks if not _is_library_callback(f, sys.modules)
            ]
        return {place: {id(f): _name_of(f) for f in found} for place, found in places.items()}

    def arm() -> None:
        from IPython import get_ipython

        shell = get_ipython()
        trusted = {
            name: value
            for name, value in shell.user_ns.items()
            if not name.startswith("_") and name not in _SKIP_NAMES
        }
        private_builtins = dict(builtins.__dict__)
        public, private = _load_private_grading(private_builtins)
        bindings = dict(trusted)
        for name, value in trusted.items():
            if getattr(public, name, None) is value and hasattr(private, name):
                bindings[name] = getattr(private, name)
        _settle_libraries()
        import funlm.answer_keys as answer_keys

        watched = [public, private, builtins, answer_keys]
        for name in ("numpy", "math", "torch", "torch.nn.functional", "funlm"):
            if name in sys.modules:
                watched.append(sys.modules[name])
        snapshot = _snapshot(trusted, watched)
        snapshot["state"] = _tripwire_state(answer_keys)
        requests.put(
            ("arm", {"trusted": bindings, "builtins": private_builtins, "snapshot": snapshot})
        )
        state.update(stdout=sys.stdout, stderr=sys.stderr, shell=shell, hooks=shell_hooks(shell))
        state["armed"] = True
        sys.addaudithook(_make_deny_hook(grader_ident, log_fd, forbidden))

    def run_test(grade_id: str, nonce: str) -> None:
        shell = state["shell"]
        try:
            changed = _hook_changes(state["hooks"], shell_hooks(shell))
            if changed:
                _log("hooks", ", ".join(changed))
        except Exception:
            _log("hooks", "IPython shell state unreadable")
        sigmask(_signal.SIG_BLOCK, all_signals)
        try:
            requests.put(("test", grade_id, nonce, shell.user_ns))
            reply = replies.get()
        finally:
            sigmask(_signal.SIG_UNBLOCK, all_signals)
        for kind, detail in reply["notes"]:
            _log(kind, f"{grade_id}: {detail}")
        if isinstance(reply["exc"], NotImplementedError):
            reply["exc"] = NotAnsweredError(
                "💡 아직 답을 작성하지 않았습니다: 이 테스트가 부르는 함수에 "
                "`raise NotImplementedError()` 가 남아 있습니다. 위의 답 셀을 완성한 뒤 다시 "
                "실행해 보세요. (the answer is not written yet: NotImplementedError)"
            )
        out, err = state["stdout"], state["stderr"]
        if reply["out"]:
            out.write(reply["out"])
        if reply["err"]:
            err.write(reply["err"])
        if reply["evidence"] is not None:
            out.write(f"\n{EVIDENCE_PREFIX} {grade_id} {nonce} {reply['evidence']}\n")
            out.flush()
            return
        out.flush()
        err.flush()
        raise reply["exc"]

    def hook(event: str, args: tuple) -> None:
        if not event.startswith("funlm.grader."):
            return
        if _thread.get_ident() != main_ident:
            raise PermissionError("grader events are accepted from the main thread only")
        if event == ARM_EVENT and not state["armed"]:
            arm()
        elif event == TEST_EVENT and state["armed"] and len(args) == 2:
            grade_id, nonce = args
            if type(grade_id) is str and type(nonce) is str:
                run_test(grade_id, nonce)

    sys.addaudithook(hook)


def main() -> None:
    install(os.environ[PLAN_ENV], os.environ.get(EVENTS_ENV))
    for name in (PLAN_ENV, EVENTS_ENV):
        os.environ.pop(name, None)
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance()


if __name__ == "__main__":
    main()
