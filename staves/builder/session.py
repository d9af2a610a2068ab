"""One Portage session: emerge run inside this process, on Portage's own API, for every
merge of a build, and Portage's configuration asked directly instead of through portageq.

The only module of the program that imports Portage (the builder's own, found by
``portage_python``). Each ``emerge`` is Portage's ``emerge_main``, as the ``emerge``
command runs it; the session adds two things to it:

- a look at each dependency calculation before anything is merged (``judge``): the merge
  list, and the packages the calculation reached in the image root. A judge that raises
  ``Stop`` ends that emerge before it merges anything;
- env-update (and ldconfig) for the image root once, after the last merge, rather than
  after every package;
- the builder's installed packages stay as they are while an emerge into the image root
  updates (``--update --deep --changed-use --changed-deps``): only the image root is
  brought up to date; the builder's build dependencies are used as installed, as an
  emerge without those options does;
- a watcher (``merge_events``) told of each calculation and package merge by Portage.
"""

import io
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from typing import Any

from .console import say


class PortageMissing(Exception):
    """No Portage this interpreter can import."""


class Stop(Exception):
    """Raised by a judge: the calculation's merge list must not be merged as it is."""


@dataclass(frozen=True)
class Planned:
    """One task of a merge list: how the package is built, where it goes, what happens."""

    how: str  # "ebuild" (compiled), "binary", or "installed"
    cpv: str
    root: str  # Portage's ROOT of the task, with a trailing slash
    operation: str  # "merge" or "uninstall"
    use: frozenset[str] = frozenset()  # the USE flags it is built with
    iuse: frozenset[str] = frozenset()  # the flags it has
    slot: str = ""  # SLOT[/SUBSLOT]
    repo: str = ""  # the repository its ebuild (or binary package) comes from
    live: bool = False  # PROPERTIES=live: its sources are fetched from upstream anew


@dataclass(frozen=True)
class Calculation:
    """What one dependency calculation decided."""

    tasks: tuple[Planned, ...]
    # The slots (CATEGORY/PN:SLOT) of the image root the calculation reached, installed
    # packages and packages to be merged alike.
    reached: frozenset[str] = field(default_factory=frozenset)
    # Installed packages of the image root its configuration no longer accepts (a mask, a
    # license, keywords): Portage keeps them when nothing else fits; a fresh root would not.
    refused: frozenset[str] = field(default_factory=frozenset)
    # Every package the image root will hold (CATEGORY/PF), installed or to be merged.
    held: frozenset[str] = field(default_factory=frozenset)

    def merges_into(self, root: str) -> list[tuple[str, str]]:
        """(how, cpv) of what is merged into ``root``."""
        return [(t.how, t.cpv) for t in self.tasks_into(root)]

    def tasks_into(self, root: str) -> list[Planned]:
        """The merges into ``root``."""
        target = root.rstrip("/") + "/"
        return [t for t in self.tasks if t.operation == "merge" and t.root == target]


Judge = Callable[[Calculation], None]


@dataclass
class _Hooks:
    """What the session's wrappers around Portage consult while an emerge runs."""

    judge: Judge | None = None
    deferred_root: str | None = None  # env-update of this root waits for the end
    calculations: int = 0
    problems: str = ""  # what emerge explained about a failed calculation
    env_update: Any = None  # Portage's own, unwrapped
    watcher: Any = None  # a merge_events.MergeEvents


def _tell(method: str, *args: Any) -> None:
    """Tell the watcher; what goes wrong in telling never stops a merge."""
    if _HOOKS.watcher is not None:
        try:
            getattr(_HOOKS.watcher, method)(*args)
        except Exception as exc:
            say(f"could not report {method}: {exc}")


_HOOKS = _Hooks()


def _import_portage() -> Any:
    try:
        import portage
    except ImportError as exc:
        raise PortageMissing(f"this python3 ({sys.executable}) cannot import Portage") from exc
    return portage


def _nodes_in(depgraph: Any, root: str) -> list[Any]:
    """The packages of ``root`` in the calculation's graph (Portage's own), installed ones
    included, not those it uninstalls."""
    target = root.rstrip("/") + "/"
    return [
        node
        for node in depgraph._dynamic_config.digraph
        if getattr(node, "root", None) == target
        and getattr(node, "slot_atom", None)
        and getattr(node, "operation", "") != "uninstall"
    ]


def _planned(pkg: Any) -> Planned:
    how, cpv, root, operation = (str(pkg.type_name), str(pkg.cpv), str(pkg.root), pkg.operation)
    slot, repo = str(pkg._metadata.get("SLOT", "")), str(pkg.repo or "")
    live = "live" in pkg._metadata.get("PROPERTIES", "").split()
    return Planned(how, cpv, root, str(operation), pkg.use.enabled, pkg.iuse.all, slot, repo, live)


# Why an installed package would not be chosen again (Portage's names for its masks).
_REFUSING_MASKS = ("package.mask", "LICENSE", "KEYWORDS", "invalid", "EAPI.unsupported")


def _refused(nodes: list[Any]) -> frozenset[str]:
    """The installed packages among ``nodes`` that the configuration masks."""
    return frozenset(
        str(node.cpv)
        for node in nodes
        if node.installed and any(mask in (node.masks or {}) for mask in _REFUSING_MASKS)
    )


def _calculation(depgraph: Any, root: str | None) -> Calculation:
    tasks = tuple(_planned(pkg) for pkg in depgraph.altlist() if hasattr(pkg, "operation"))
    if not root:
        return Calculation(tasks)
    nodes = _nodes_in(depgraph, root)
    slots = frozenset(str(node.slot_atom) for node in nodes)
    held = frozenset(str(node.cpv) for node in nodes)
    return Calculation(tasks, slots, _refused(nodes), held)


def _install_hooks(portage: Any) -> None:
    """Wrap Portage's dependency calculation and its per-merge env-update, once."""
    import _emerge.actions
    import _emerge.depgraph
    import portage.util.env_update as env_updates
    from _emerge.MergeListItem import MergeListItem
    from _emerge.Scheduler import Scheduler

    if getattr(_emerge.actions, "_staves_hooked", False):
        return
    calculate = _emerge.actions.backtrack_depgraph
    env_update = env_updates.env_update
    _HOOKS.env_update = env_update
    want_update = _emerge.depgraph.depgraph._want_update_pkg
    reinstall_for_flags = _emerge.depgraph.depgraph._reinstall_for_flags
    changed_deps = _emerge.depgraph.depgraph._changed_deps

    def judged_calculation(settings: Any, trees: Any, opts: Any, *args: Any, **kwargs: Any):
        _HOOKS.calculations += 1
        success, depgraph, favorites = calculate(settings, trees, opts, *args, **kwargs)
        if not success:
            _HOOKS.problems = _explain_once(depgraph)
            return success, depgraph, favorites
        pretend = "--pretend" in opts
        if _HOOKS.watcher is not None or (_HOOKS.judge is not None and not pretend):
            calculation = _calculation(depgraph, settings.get("ROOT"))
            _tell("calculated", calculation, pretend)
            if _HOOKS.judge is not None and not pretend:
                _HOOKS.judge(calculation)
        return success, depgraph, favorites

    def deferred_env_update(*args: Any, **kwargs: Any) -> Any:
        target = str(kwargs.get("target_root") or "").rstrip("/")
        if _HOOKS.deferred_root and target == _HOOKS.deferred_root.rstrip("/"):
            return None  # done once for the whole root after the last merge
        return env_update(*args, **kwargs)

    def builder_stays(depgraph: Any, parent: Any, pkg: Any) -> bool:
        if _in_builder(depgraph, pkg):
            return False
        return bool(want_update(depgraph, parent, pkg))

    def builder_flags_stay(depgraph: Any, pkg: Any, *args: Any, **kwargs: Any) -> Any:
        if _in_builder(depgraph, pkg) and _builder_has(depgraph, pkg):
            return None  # the builder's installed instance is used as it is
        return reinstall_for_flags(depgraph, pkg, *args, **kwargs)

    def builder_deps_stay(depgraph: Any, pkg: Any) -> bool:
        if pkg.installed and _in_builder(depgraph, pkg):
            return False
        return bool(changed_deps(depgraph, pkg))

    def watched_start(item: Any, start: Any = MergeListItem._start) -> Any:
        if not item.pkg.installed and not item.build_opts.pretend:
            _tell("started", _planned(item.pkg))
        return start(item)

    def watched_complete(scheduler: Any, pkg: Any, done: Any = Scheduler._task_complete) -> Any:
        if not pkg.installed:
            _tell("merged", _planned(pkg))
        return done(scheduler, pkg)

    def watched_failure(sched: Any, bad: Any, *a: Any, msg: Any = Scheduler._failed_pkg_msg) -> Any:
        if not getattr(bad, "postinst_failure", False):  # that one is only a warning
            _tell("failed", _planned(bad.pkg), bad.build_log)
        return msg(sched, bad, *a)

    MergeListItem._start = watched_start
    Scheduler._task_complete = watched_complete
    Scheduler._failed_pkg_msg = watched_failure
    _emerge.actions.backtrack_depgraph = judged_calculation
    # The judge runs in this process: no calculation in a child process (Portage that
    # has them); an environment variable to say so would end up in every package's
    # saved environment.
    fork = getattr(_emerge.actions, "_depgraph_fork", None)
    if fork is not None and hasattr(fork, "enabled"):
        fork.enabled = lambda opts: False
    _emerge.depgraph.depgraph._want_update_pkg = builder_stays
    _emerge.depgraph.depgraph._reinstall_for_flags = builder_flags_stay
    _emerge.depgraph.depgraph._changed_deps = builder_deps_stay
    env_updates.env_update = deferred_env_update  # merges import it when they run
    _emerge.actions._staves_hooked = True


def _in_builder(depgraph: Any, pkg: Any) -> bool:
    """Whether ``pkg`` is the builder's while an emerge works on another root."""
    frozen = depgraph._frozen_config
    running = frozen._running_root.root
    return bool(pkg.root == running and frozen.target_root != running)


def _builder_has(depgraph: Any, pkg: Any) -> bool:
    """Whether the builder has a package of ``pkg``'s slot installed."""
    running = depgraph._frozen_config._running_root.root
    vardb = depgraph._frozen_config.trees[running]["vartree"].dbapi
    return bool(vardb.match(pkg.slot_atom))


def _explain_once(depgraph: Any) -> str:
    """Show why the calculation failed, and keep the text: emerge would show it again."""
    text = io.StringIO()
    with redirect_stdout(text), redirect_stderr(text):
        depgraph.display_problems()
    depgraph.display_problems = lambda: None
    sys.stdout.write(text.getvalue())
    sys.stdout.flush()
    return text.getvalue()


@contextmanager
def _own_environment() -> Iterator[None]:
    """emerge_main sets ROOT, PORTAGE_CONFIGROOT and its SIGTERM handler for the process;
    each run gets them back as they were."""
    saved = dict(os.environ)
    handler = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        signal.signal(signal.SIGTERM, handler)


@contextmanager
def _silenced(quiet: bool) -> Iterator[None]:
    """Without emerge's own output (its merge list), warnings on stderr still shown."""
    if not quiet:
        yield
        return
    with redirect_stdout(io.StringIO()):
        yield


class Session:
    """Portage, loaded once for the whole build."""

    def __init__(self) -> None:
        self.portage = _import_portage()
        self.portage._internal_caller = True
        self.portage._disable_legacy_globals()
        self.portage.process.sanitize_fds()
        _install_hooks(self.portage)
        self._configs: dict[tuple[str, str], Any] = {}
        self._portdbs: dict[str, Any] = {}

    @property
    def calculations(self) -> int:
        """How many dependency calculations the session's emerges have run."""
        return _HOOKS.calculations

    def watch(self, watcher: Any) -> None:
        """Tell ``watcher`` of every calculation and package merge from now on."""
        _HOOKS.watcher = watcher

    @property
    def problems(self) -> str:
        """What emerge explained about the last failed calculation."""
        return _HOOKS.problems

    def emerge(self, args: list[str], judge: Judge | None = None, quiet: bool = False) -> int:
        """Run emerge with ``args`` in this process; its exit code. ``judge`` sees each
        calculation's merge list first; its ``Stop`` ends the run and is raised here.
        ``quiet`` keeps what emerge itself prints on stdout (its merge list) out of the
        output: for a --pretend run, whose explanation is in ``problems``."""
        from _emerge.main import emerge_main

        _HOOKS.judge, _HOOKS.problems = judge, ""
        sys.stdout.flush()
        try:
            with _own_environment(), _silenced(quiet):
                code = emerge_main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            _HOOKS.judge = None
            sys.stdout.flush()
            sys.stderr.flush()
        return code if isinstance(code, int) else 1

    @contextmanager
    def deferring_env_update(self, root: str) -> Iterator[None]:
        """Merges into ``root`` skip env-update; ``update_environment`` runs it once."""
        _HOOKS.deferred_root = root
        try:
            yield
        finally:
            _HOOKS.deferred_root = None

    def reload(self) -> None:
        """Forget the configurations read so far (their files were just written)."""
        self._configs.clear()
        self._portdbs.clear()

    def config(self, config_root: str = "/", root: str = "/") -> Any:
        """Portage's configuration for a config root and ROOT (loaded once each)."""
        key = (config_root, root)
        if key not in self._configs:
            self._configs[key] = self.portage.config(config_root=config_root, target_root=root)
        return self._configs[key]

    def variables(self, names: list[str], config_root: str = "/") -> dict[str, str]:
        """Portage's variables (``NAME*`` for every variable starting with NAME)."""
        settings = self.config(config_root)
        found = {}
        for name in names:
            if name.endswith("*"):
                prefix = name[:-1]
                found |= {k: settings[k] for k in settings if k.startswith(prefix)}
            elif name in settings:
                found[name] = settings[name]
        return found

    def repositories(self, config_root: str = "/") -> dict[str, str]:
        """Repository name → location, as the configuration names them."""
        repos = self.config(config_root).repositories
        return {repo.name: repo.location for repo in repos if repo.location}

    def distfiles(self, cpv: str, repo: str, use: frozenset[str], config_root: str) -> list[str]:
        """The files an ebuild fetches with these USE flags (Portage's fetch map, ``A``)."""
        if config_root not in self._portdbs:
            settings = self.config(config_root)
            self._portdbs[config_root] = self.portage.portdbapi(mysettings=settings)
        portdb = self._portdbs[config_root]
        location = portdb.repositories.get_location_for_name(repo)
        return sorted(portdb.getFetchMap(cpv, useflags=set(use), mytree=location))

    def write_metadata_file(self, dbdir: str) -> None:
        """Portage's consolidated ``metadata`` file for a package database entry Portage did
        not merge itself (the compiler runtime's), as it writes one for each package it
        merges where this Portage keeps them; nothing where it keeps none."""
        import portage.dbapi.vartree as vartree

        consolidate = getattr(vartree, "_consolidate_to_metadata_file", None)
        if consolidate is not None:
            consolidate(dbdir)

    def update_environment(self, root: str) -> None:
        """env-update for ``root`` as the env-update command does it, ldconfig included:
        profile.env, ld.so.conf and ld.so.cache from the root's env.d and libraries."""
        say(f"env-update and ldconfig for {root}")
        settings = self.portage.config(config_root="/", target_root=root)
        target = settings["ROOT"]
        _HOOKS.env_update(makelinks=True, target_root=target, prev_mtimes={}, env=settings)
