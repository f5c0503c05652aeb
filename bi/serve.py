"""Superset for `reformwh bi`, run with bi/.venv's Python (Superset's own environment, not the project's).

One process prepares and serves, so that Superset's application is loaded once per start (it is the slow
part): the metadata schema (migrations), roles and permissions (only when Superset's version changed),
the admin user with the password given, the dashboards bundle (bi/assets, the warehouse connection filled
in by reformwh/bi.py) imported over what is there whenever it differs from the last one imported; then
gunicorn, one worker with threads.

Environment: SUPERSET_CONFIG_PATH, SUPERSET_SECRET_KEY, SUPERSET_DATABASE_URI (bi/superset_config.py),
SUPERSET_ADMIN_PASSWORD, SUPERSET_BUNDLE (a ZIP in Superset's export format), SUPERSET_STATE_DIR
(a folder for this script's stamps), SUPERSET_PORT, SUPERSET_BIND_HOST (127.0.0.1; 0.0.0.0 in a container).
Command `prepare` only prepares.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
import zipfile
from pathlib import Path


def log(message: str) -> None:
    print(f"[reformwh bi] {message}", flush=True)


def prepare(app) -> None:
    from flask_migrate import upgrade
    from superset import security_manager
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.utils.core import override_user

    started = time.monotonic()
    upgrade()
    log(f"metadata schema up to date ({time.monotonic() - started:.1f} s)")

    state = Path(os.environ.get("SUPERSET_STATE_DIR", "."))
    stamp = state / f".initialised-{app.config['VERSION_STRING']}"
    if not stamp.exists():  # `superset init`: slow, and needed only once per Superset version
        from superset.extensions import appbuilder

        appbuilder.add_permissions(update_perms=True)
        security_manager.sync_role_definitions()
        state.mkdir(parents=True, exist_ok=True)
        stamp.touch()
        log(f"roles and permissions set ({time.monotonic() - started:.1f} s)")

    password = os.environ["SUPERSET_ADMIN_PASSWORD"]
    admin = security_manager.find_user(username="admin")
    if admin is None:
        admin = security_manager.add_user("admin", "Quản trị", "reformwh", "admin@localhost",
                                          security_manager.find_role("Admin"), password=password)
    else:  # the password printed by `reformwh bi` is the one that works
        security_manager.reset_password(admin.id, password)

    bundle = os.environ.get("SUPERSET_BUNDLE")
    imported = state / ".imported-bundle"
    # the bundle and the metadata database it went into: a new metadata database gets the import again
    digest = hashlib.sha256(Path(bundle).read_bytes() + app.config["SQLALCHEMY_DATABASE_URI"].encode()).hexdigest() \
        if bundle else None
    if bundle and imported.exists() and imported.read_text() == digest:
        log("dashboards unchanged since their last import")
    elif bundle:
        with zipfile.ZipFile(bundle) as archive:
            # paths inside the bundle's root folder, as Superset's own import reads them
            contents = {name.split("/", 1)[1]: archive.read(name).decode() for name in archive.namelist()
                        if name.endswith(".yaml")}
        command = ImportAssetsCommand(contents)
        with override_user(admin):
            try:
                command.run()
            except Exception as exc:  # the import's own message is vague: say what did not validate
                details = getattr(exc.__cause__, "normalized_messages", lambda: None)()
                raise SystemExit(f"import of {bundle} failed: {exc} {details or exc.__cause__!r}") from exc
        imported.write_text(digest)
        log(f"dashboards imported from {bundle} ({time.monotonic() - started:.1f} s)")


def serve(app, port: int) -> None:
    from gunicorn.app.base import BaseApplication
    from superset import db

    with app.app_context():
        db.engine.dispose()  # no pooled connection may cross the fork into the worker

    class Server(BaseApplication):
        def load_config(self):
            bind = f"{os.environ.get('SUPERSET_BIND_HOST', '127.0.0.1')}:{port}"
            for key, value in {"bind": bind, "workers": 1, "threads": 8, "worker_class": "gthread",
                               "timeout": 120, "preload_app": True, "accesslog": "-",
                               "graceful_timeout": 5}.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()


def main() -> int:
    from superset.app import create_app

    started = time.monotonic()
    app = create_app()
    log(f"Superset {app.config['VERSION_STRING']} loaded ({time.monotonic() - started:.1f} s)")
    with app.app_context():
        prepare(app)
    if sys.argv[1:] == ["prepare"]:
        return 0
    serve(app, int(os.environ.get("SUPERSET_PORT", "8088")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
