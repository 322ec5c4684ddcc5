# weft-gdb.py - gdb commands for programs linked with weft's M:N
# scheduler (the epoll backend), in the manner of Go's runtime-gdb.py.
#
#   info weft-tasks          every task (pthread): id, name, state, start
#   weft-bt ID [full]        the backtrace of task ID (its gettid())
#
# Under M:N a pthread is a task that worker OS threads take turns to run,
# so gdb's `info threads` shows workers and `bt` the scheduler.  A parked
# or runnable task's registers are on its own stack (sched/context.h);
# weft-bt unwinds from there.  gdb loads this file by itself for a
# program linked with weft (its .debug_gdb_scripts entry, from
# sched/gdbinfo.c), once the file's directory is in gdb's auto-load
# safe-path:
#
#   add-auto-load-safe-path /usr/local/weft/share/weft/gdb
#
# in ~/.config/gdb/gdbinit (the prefix's share/weft/gdb, or a build
# directory's); or `source` it by hand.  docs/debugging.md, "gdb".
#
# Nothing here needs libc's debug info: addresses, offsets and constants
# come from the table __sched_gdb that the program's libc carries
# (sched/gdbinfo.c says why), and only unwinding through libc needs its
# call frame information (.debug_frame, which weft's build emits).
# Nothing here writes to the inferior, so it works on core files too.

import re
import time

import gdb
import gdb.unwinder


class WeftError(Exception):
    pass


def _inferior():
    return gdb.selected_inferior()


def _mem(addr, n):
    try:
        return bytes(_inferior().read_memory(addr, n))
    except gdb.MemoryError:
        raise WeftError("cannot read %d bytes at %#x" % (n, addr))


def _u64(addr):
    return int.from_bytes(_mem(addr, 8), "little")


def _i32(addr):
    return int.from_bytes(_mem(addr, 4), "little", signed=True)


def _cstr(addr, n):
    return _mem(addr, n).split(b"\0", 1)[0].decode("utf-8", "replace")


def _symbol_address(name):
    """The address of a symbol, minimal symbols included (libc has no
    debug info), or None."""
    try:
        return int(gdb.parse_and_eval("(unsigned long)&'%s'" % name))
    except gdb.error:
        return None


class Layout:
    """The table sched/gdbinfo.c puts in every program that links the
    scheduler: names to addresses, offsets and constants."""

    VERSION = 1

    def __init__(self):
        base = _symbol_address("__sched_gdb")
        if base is None:
            raise WeftError(
                "no weft M:N scheduler here (no symbol __sched_gdb): not "
                "linked with weft's epoll backend, fully stripped, or "
                "libc.so not loaded yet (start the program first)")
        self.v = {}
        for i in range(4096):
            e = _mem(base + 16 * i, 16)
            name = int.from_bytes(e[:8], "little")
            if not name:
                break
            self.v[_cstr(name, 64)] = int.from_bytes(e[8:], "little")
        version = self.v.get("version")
        if version != self.VERSION:
            raise WeftError(
                "this weft-gdb.py reads table version %d, the program's "
                "libc has version %s: use the script of the weft the "
                "program was built with" % (self.VERSION, version))

    def __getitem__(self, key):
        try:
            return self.v[key]
        except KeyError:
            raise WeftError("the program's libc lacks %r in __sched_gdb: "
                            "a weft-gdb.py newer than the program's weft?"
                            % key)


_symcache = {}


def _symbolize(addr):
    """'name' or 'name+off' for addr from gdb's symbols, or None.
    Cached for the duration of one command (_symcache.clear())."""
    if addr not in _symcache:
        _symcache[addr] = _symbolize1(addr)
    return _symcache[addr]


def _symbolize1(addr):
    try:
        s = gdb.execute("info symbol %#x" % addr, to_string=True)
    except gdb.error:
        return None
    if s.startswith("No symbol"):
        return None
    m = re.match(r"(\S+)(?: \+ (\d+))? in section (\S+)", s)
    if not m:
        return None
    return m.group(1) + ("+" + m.group(2) if m.group(2) else "")


def _function_name(addr):
    s = _symbolize(addr)
    return s.split("+")[0] if s else None


class Task:
    pass


class Snapshot:
    """The scheduler's state, read once per command.  Reads are not
    atomic with respect to a running program: stop it first."""

    def __init__(self):
        _symcache.clear()
        L = self.L = Layout()
        main = L["main_task"]
        first = _u64(main + L["task.tcb"])
        if not first:
            raise WeftError("the scheduler has not started: the program "
                            "has created no thread yet")
        S = L["S"]
        self.nworkers = _i32(S + L["sched.n"])
        w0 = _u64(S + L["sched.w"])
        wsize = L["sizeof.worker"]
        self.workers = {}  # address -> (index, kernel tid)
        for i in range(max(0, min(self.nworkers, 4096))):
            w = w0 + i * wsize
            self.workers[w] = (_i32(w + L["worker.idx"]),
                               _i32(w + L["worker.ktid"]))
        self.tasks = []
        seen = set()
        td = first
        while td and td not in seen and len(seen) < 10000000:
            seen.add(td)
            self.tasks.append(self._task(td, main))
            td = _u64(td + L["pthread.next"])
        self.by_join = {t.tcb + L["pthread.detach_state"]: t
                        for t in self.tasks}
        self._fds = None

    def _struct(self, addr, prefix, last):
        """The bytes of the fields named prefix.* at addr, in one read;
        last: the size of the field at the highest offset."""
        end = max(v for k, v in self.L.v.items()
                  if k.startswith(prefix)) + last
        return _mem(addr, end)

    def _task(self, td, main):
        L = self.L
        p = self._struct(td, "pthread.", 16)  # task_name

        def u64(b, k):
            o = L[k]
            return int.from_bytes(b[o:o + 8], "little")

        def i32(b, k):
            o = L[k]
            return int.from_bytes(b[o:o + 4], "little", signed=True)

        t = Task()
        t.tcb = td
        t.tid = i32(p, "pthread.tid")
        t.addr = u64(p, "pthread.pal")
        o = L["pthread.task_name"]
        name = p[o:o + 16]
        t.name = name[:15].split(b"\0", 1)[0].decode("utf-8", "replace") \
            if name[15] == 1 else ""
        t.is_main = t.addr == main
        top = u64(p, "pthread.stack")
        size = u64(p, "pthread.stack_size")
        t.stack = (top - size, top) if top and size else None
        if not t.addr:
            t.state = None
            return t
        b = self._struct(t.addr, "task.", 8)
        t.id = i32(b, "task.id")
        t.state = i32(b, "task.state")
        t.sp = u64(b, "task.sp")
        t.worker = u64(b, "task.worker")
        t.waddr = u64(b, "task.w.addr")
        t.timer = i32(b, "task.heap_idx") >= 0
        t.deadline = u64(b, "task.deadline")
        t.in_syscall = i32(b, "task.in_syscall")
        t.start = u64(b, "task.start")
        t.arg = u64(b, "task.arg")
        return t

    def find(self, tid):
        for t in self.tasks:
            if t.tid == tid:
                return t
        return None

    def fds(self):
        """Netpoller: {address of an fd's counter: fd} and {a poll's own
        counter: [fds]}, from the fd table (netpoll.h)."""
        if self._fds is not None:
            return self._fds
        L = self.L
        np = L["np_gdb"]
        top, chunk, nchunks = _u64(np), _u64(np + 8), _u64(np + 16)
        size = L["sizeof.np_fd"]
        seq, waiters = L["np_fd.seq"], L["np_fd.waiters"]
        counters, polls = {}, {}
        chunks = _mem(top, 8 * nchunks)
        for ci in range(nchunks):
            c = int.from_bytes(chunks[8 * ci:8 * ci + 8], "little")
            if not c:
                continue
            data = _mem(c, chunk * size)
            counters[(c, c + chunk * size)] = ci * chunk
            for i in range(chunk):
                w = int.from_bytes(data[i * size + waiters:
                                        i * size + waiters + 8], "little")
                n = 0
                while w and n < 1024:
                    word = _u64(w + L["np_wait.word"])
                    if word:
                        polls.setdefault(word, []).append(ci * chunk + i)
                    w = _u64(w + L["np_wait.next"])
                    n += 1
        self._fds = (counters, polls, size, seq)
        return self._fds

    def fd_of(self, addr):
        counters, polls, size, seq = self.fds()
        for (lo, hi), base in counters.items():
            if lo <= addr < hi and (addr - lo) % size == seq:
                return base + (addr - lo) // size
        return None

    def worker_of(self, t):
        w = self.workers.get(t.worker)
        return w if w else (None, None)


def _now_ns():
    """CLOCK_MONOTONIC now, if the inferior is a live process on this
    machine (deadlines are in that clock), else None."""
    inf = _inferior()
    conn = getattr(inf, "connection", None)
    if inf.pid and conn is not None and conn.type == "native":
        return time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    return None


def _when(deadline):
    now = _now_ns()
    if now is None:
        return "at %.3fs (CLOCK_MONOTONIC)" % (deadline / 1e9)
    d = (deadline - now) / 1e9
    return "in %.3fs" % d if d >= 0 else "%.3fs ago" % -d


# What a futex word is part of, from the program's debug info, by the
# offset of the word in its object (musl's pthread_impl.h).
_KINDS = {
    "pthread_mutex_t": {4: "mutex"},
    "pthread_cond_t": {None: "condition variable"},
    "pthread_rwlock_t": {0: "rwlock", 4: "rwlock"},
    "pthread_barrier_t": {None: "barrier"},
    "sem_t": {None: "semaphore"},
    "pthread_once_t": {0: "pthread_once"},
    "pthread_spinlock_t": {0: "spinlock"},
}


def _object_at(name, off):
    """(path, kind, offset in it) of the synchronization object that
    contains byte off of the variable name, from the program's debug
    info: descends into arrays and structs ("q.locks[2]"); kind is None
    if there is none."""
    try:
        sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    except gdb.error:
        sym = None
    if sym is None:
        return name, None, off
    ty, path = sym.type, name
    for _ in range(16):
        kinds = _KINDS.get(ty.name) if ty.name else None
        if kinds:
            return path, kinds.get(off, kinds.get(None)), off
        st = ty.strip_typedefs()
        if st.code == gdb.TYPE_CODE_ARRAY and st.target().sizeof:
            n = off // st.target().sizeof
            path, ty, off = "%s[%d]" % (path, n), st.target(), \
                off - n * st.target().sizeof
        elif st.code == gdb.TYPE_CODE_STRUCT:
            for f in st.fields():
                if not hasattr(f, "bitpos") or f.name is None:
                    continue
                lo = f.bitpos // 8
                if lo <= off < lo + f.type.sizeof:
                    path, ty, off = "%s.%s" % (path, f.name), f.type, off - lo
                    break
            else:
                break
        else:
            break
    return path, None, off


def _futex(snap, t, addr):
    """A futex address, named after the program's object if it has one."""
    s = _symbolize(addr)
    if not s:
        if t.stack and t.stack[0] <= addr < t.stack[1]:
            return "futex %#x (on its own stack)" % addr
        return "futex %#x" % addr
    name, _, off = s.partition("+")
    path, kind, off = _object_at(name, int(off) if off else 0)
    if not kind:
        return "futex %#x <%s>" % (addr, s)
    what = "%s %s (futex %#x)" % (kind, path, addr)
    if kind == "mutex":
        # The owner's id, for the types that record it (not the
        # default type, whose locked word says only "locked").
        owner = _i32(addr) & 0x3fffffff
        o = snap.find(owner) if owner else None
        if o:
            what += ", held by thread %d" % o.tid
    return what


def _wait(snap, t):
    """What a parked task waits for."""
    L = snap.L
    a = t.waddr
    if a == t.addr + L["task.sigpending"]:
        return "waiting for a signal (sigwait, sigsuspend, pause)"
    j = snap.by_join.get(a)
    if j is not None:
        return "join of thread %d" % j.tid
    if a == L["np_multi_seq"]:
        return "in poll/select on many fds (netpoller)"
    fd = snap.fd_of(a)
    if fd is not None:
        return "on fd %d (netpoller)" % fd
    polled = snap.fds()[1].get(a)
    if polled:
        return "in poll/select on fd%s %s (netpoller)" % (
            "s" if len(polled) > 1 else "", ", ".join(map(str, polled)))
    if t.timer or (t.stack and t.stack[0] <= a < t.stack[1]):
        # A word of its own: what waits on it is in its frames.
        name = _frame_named(snap, t, _OWN_WORD_WAITS, 10)
        if name:
            return _OWN_WORD_WAITS[name]
    return "on " + _futex(snap, t, a)


def describe(snap, t):
    L = snap.L
    if t.state is None:
        return "not a task (a kernel thread)"
    if t.state == L["T_RUNNING"]:
        idx, _ = snap.worker_of(t)
        s = "running on worker %s" % idx
        if t.in_syscall:
            s += ", in a system call"
        return s
    if t.state == L["T_RUNNABLE"]:
        return "runnable"
    if t.state == L["T_DEAD"]:
        return "exited"
    if t.state != L["T_PARKED"]:
        return "state %d?" % t.state
    s = "parked: " + _wait(snap, t)
    if t.timer:
        s += ", %s %s" % ("wakes" if s.endswith("sleeping") else "timeout",
                          _when(t.deadline))
    return s


def start_routine(t):
    """The function the thread was created to run, or ''."""
    if t.is_main:
        return "main"
    if t.state is None or not t.start:
        return ""
    # musl's pthread_create (libc-overlay/src/thread/pthread_create.c)
    # makes every task run start() or start_c11() with a struct
    # start_args whose first member is the program's function.
    if _function_name(t.start) not in ("start", "start_c11"):
        return ""
    if t.stack and not t.stack[0] <= t.arg < t.stack[1]:
        return ""
    try:
        fn = _u64(t.arg)
    except WeftError:
        return ""
    return _function_name(fn) or "%#x" % fn


# ---- Unwinding a task that is not running ------------------------------

class _TaskUnwinder(gdb.unwinder.Unwinder):
    """While ctx is set: frame #0 (whatever the selected thread runs) has
    the task's saved context as its caller.  gdb cannot be given frame
    #0's registers, and writing the thread's registers (Go's technique)
    fails on core files and changes a live process; this changes
    nothing.  weft-bt hides frame #0."""

    def __init__(self):
        super().__init__("weft-task")
        self.ctx = None

    def __call__(self, pending):
        if self.ctx is None or pending.level() != 0:
            return None
        regs, sp = self.ctx
        pc = pending.read_register("rip")
        # Frame #0's id: just inner to the task's frames, so that gdb's
        # check that callers are outer (higher) on the stack holds.
        info = pending.create_unwind_info(_FrameId(
            gdb.Value(sp - 16).cast(pending.read_register("rsp").type), pc))
        for r, v in regs.items():
            info.add_saved_register(r, gdb.Value(v).cast(
                pending.read_register(r).type))
        return info


_unwinder = _TaskUnwinder()


class _FrameId:
    """What create_unwind_info takes (gdb.unwinder.FrameId since gdb
    14; before, any object with sp and pc, as gdb.Value)."""

    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


def _saved_regs(snap, t):
    L = snap.L
    f = t.sp
    regs = {r: _u64(f + L["SCHED_FRAME_" + r.upper()])
            for r in ("r12", "r13", "r14", "r15", "rbx", "rbp", "rip")}
    regs["rsp"] = f + L["SCHED_FRAME_RIP"] + 8
    return regs, regs["rsp"]


class _AsTask:
    """with _AsTask(ctx): gdb's frames are the task's (after frame #0)."""

    def __init__(self, ctx):
        self.ctx = ctx

    def __enter__(self):
        _unwinder.ctx = self.ctx
        gdb.invalidate_cached_frames()

    def __exit__(self, *exc):
        _unwinder.ctx = None
        gdb.invalidate_cached_frames()
        return False


class _KeepSelection:
    """with _KeepSelection(): the user's selected thread and frame are
    selected again at the end (switching threads and invalidating the
    frame cache select frame #0)."""

    def __enter__(self):
        self.thread = gdb.selected_thread()
        try:
            self.level = gdb.selected_frame().level()
        except gdb.error:
            self.level = None

    def __exit__(self, *exc):
        try:
            if self.thread is not None and self.thread.is_valid():
                self.thread.switch()
            if self.level:
                f = gdb.newest_frame()
                for _ in range(self.level):
                    f = f.older() or f
                f.select()
        except gdb.error:
            pass
        return False


# Waits on a word the task keeps itself, by a function on its stack:
# sleeps (pal/epoll/io.c) and musl's condition variables, whose waiters
# each wait on a node on their own stack.
_OWN_WORD_WAITS = {
    "sleep_call": "sleeping",
    "pthread_cond_timedwait": "condition variable wait",
    "__pthread_cond_timedwait": "condition variable wait",
    "cnd_timedwait": "condition variable wait",
}


def _frame_named(snap, t, names, n):
    """The first of a parked task's n innermost frames whose function is
    one of names, as far as gdb can unwind them: its name, or None."""
    if not t.sp:
        return None
    try:
        with _AsTask(_saved_regs(snap, t)):
            f = gdb.newest_frame().older()
            while f is not None and n > 0:
                if f.name() in names:
                    return f.name()
                f = f.older()
                n -= 1
    except gdb.error:
        pass
    return None


def _thread_of(ktid):
    for th in _inferior().threads():
        if th.ptid[1] == ktid:
            return th
    return None


def _live_on_worker(snap, t):
    """A worker thread whose stack pointer is in t's stack: t is in the
    middle of a switch there, and its saved context is not (yet) its
    state.  Leaves another thread selected: call in _KeepSelection."""
    if not t.stack:
        return None
    for th in _inferior().threads():
        th.switch()
        sp = int(gdb.parse_and_eval("(unsigned long)$sp"))
        if t.stack[0] <= sp < t.stack[1]:
            return th
    return None


def _renumber(text):
    """bt's output without frame #0, the others numbered from 0."""
    out, skip = [], False
    for line in text.splitlines():
        m = re.match(r"#(\d+)(\s+)(.*)", line)
        if m:
            n = int(m.group(1))
            skip = n == 0
            if not skip:
                num = "#%d" % (n - 1)
                pad = m.group(2) + " " * (len(m.group(1)) + 1 - len(num))
                line = num + pad + m.group(3)
        if not skip:
            out.append(line)
    return "\n".join(out)


class InfoWeftTasks(gdb.Command):
    """List weft's M:N tasks (pthreads): info weft-tasks

Each task: its id (what gettid() returns in it), its name (from
pthread_setname_np, else empty), its state and the function it was
created to run.  "*" marks the task that the selected thread runs.
States: running on worker N (and in a system call); runnable; parked
on a futex (named after the program's object when its debug info says
what it is: mutex, condition variable, ...), on the join of thread N,
on fd N or a poll (the netpoller), sleeping, or waiting for a signal,
with the timeout of a timed wait; exited."""

    def __init__(self):
        super().__init__("info weft-tasks", gdb.COMMAND_STATUS,
                         gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        with _KeepSelection():
            self._invoke()

    def _invoke(self):
        try:
            snap = Snapshot()
        except WeftError as e:
            raise gdb.GdbError("weft: %s" % e)
        cur = gdb.selected_thread()
        cur_ktid = cur.ptid[1] if cur else None
        rows = []
        for t in snap.tasks:
            try:
                state = describe(snap, t)
                start = start_routine(t)
            except WeftError as e:
                state, start = "? (%s)" % e, ""
            mark = " "
            if t.state == snap.L["T_RUNNING"] and \
                    snap.worker_of(t)[1] == cur_ktid:
                mark = "*"
            rows.append((mark, str(t.tid), t.name, state, start))
        wid = max(len(r[1]) for r in rows)
        wname = max([len(r[2]) for r in rows] + [4])
        wstate = max(len(r[3]) for r in rows)
        gdb.write("  %-*s  %-*s  %-*s  %s\n" % (wid, "Id", wname, "Name",
                                                wstate, "State", "Start"))
        for mark, tid, name, state, start in rows:
            gdb.write(("%s %-*s  %-*s  %-*s  %s" % (
                mark, wid, tid, wname, name, wstate, state, start)).rstrip()
                + "\n")
        gdb.write("%d task(s), %d worker(s)\n" % (len(rows), snap.nworkers))


class WeftBt(gdb.Command):
    """Backtrace of a weft M:N task: weft-bt ID [full]

ID is the task's id, as `info weft-tasks` lists it (what gettid()
returns in the thread).  A running task's backtrace is its worker
thread's; a parked or runnable task's starts where it switched out, in
the scheduler, from the registers saved on its stack.  "full" also
prints each frame's locals, as `bt full`."""

    def __init__(self):
        super().__init__("weft-bt", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if not argv or len(argv) > 2 or (len(argv) == 2 and
                                         argv[1] not in ("full", "-full")):
            raise gdb.GdbError("usage: weft-bt ID [full]")
        try:
            tid = int(gdb.parse_and_eval(argv[0]))
        except gdb.error as e:
            raise gdb.GdbError("weft-bt: %s" % e)
        bt = "bt -full" if len(argv) == 2 else "bt"
        with _KeepSelection():
            self._invoke(tid, bt)

    def _invoke(self, tid, bt):
        try:
            snap = Snapshot()
            t = snap.find(tid)
            if t is None:
                raise WeftError("no task %d (info weft-tasks lists them)"
                                % tid)
            if t.state is None or t.state == snap.L["T_DEAD"]:
                raise WeftError("task %d has no stack to show (%s)"
                                % (tid, describe(snap, t)))
            th = None
            if t.state == snap.L["T_RUNNING"]:
                idx, ktid = snap.worker_of(t)
                th = _thread_of(ktid)
                if th is None:
                    raise WeftError("task %d runs on worker %s, whose "
                                    "thread %s gdb does not know"
                                    % (tid, idx, ktid))
                gdb.write("task %d runs on worker %s (LWP %d, gdb thread "
                          "%d):\n" % (tid, idx, ktid, th.num))
            else:
                th = _live_on_worker(snap, t)
                if th is not None:
                    gdb.write("task %d is switching on LWP %d (gdb thread "
                              "%d):\n" % (tid, th.ptid[1], th.num))
            if th is not None:
                th.switch()
                gdb.execute(bt)
                return
            with _AsTask(_saved_regs(snap, t)):
                text = gdb.execute(bt, to_string=True)
            gdb.write(_renumber(text) + "\n")
        except WeftError as e:
            raise gdb.GdbError("weft-bt: %s" % e)


# Sourcing the file again replaces the commands and the unwinder.
gdb.unwinder.register_unwinder(None, _unwinder, replace=True)
InfoWeftTasks()
WeftBt()
