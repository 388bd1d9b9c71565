"""Writing the files of a run whole: through temporaries, put in place together.

``save_results`` and ``write_report`` write each file to a temporary one in the
same folder and replace the files only once all of them are written: a full
disk, a folder that refuses new files or an interrupt midway leaves every
earlier file as it was and no temporary file behind.
"""

import contextlib
import errno
import os
import secrets
import stat

__all__ = ["staged_files"]


def _refuse_read_only(path):
    """``chmod a-w`` says "do not write here"; a replace would not ask (nor would root)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode) and not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(
            errno.EACCES, "the file is read-only (chmod u+w to allow writing it)", path
        )


def _new_temporary(path):
    """Create an empty ``.NAME.XXXXXXXX.tmp`` beside ``path``; return its path.

    With the permissions of any new file (0o666 less the umask), not mkstemp's
    owner-only ones, which the file put in place would keep.
    """
    folder, name = os.path.split(path)
    while True:
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp


@contextlib.contextmanager
def staged_files(folder):
    """Yield ``stage(name)``, which returns a temporary path to write ``folder/name`` to.

    On a clean exit each temporary replaces its file; on any error they are
    all removed and the error raised, the files in ``folder`` left as they
    were. A read-only file is refused (``PermissionError``) when staged.
    """
    folder = os.fspath(folder)
    staged = []

    def stage(name):
        path = os.path.join(folder, name)
        _refuse_read_only(path)
        tmp = _new_temporary(path)
        staged.append((tmp, path))
        with contextlib.suppress(FileNotFoundError):
            # A file replaced keeps its permissions (one shared with a group stays so).
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        return tmp

    try:
        yield stage
        while staged:
            tmp, path = staged[0]
            os.replace(tmp, path)
            staged.pop(0)
    except OSError as exc:
        # The file meant, not its temporary, which is gone.
        exc.filename = dict(staged).get(exc.filename, exc.filename)
        raise
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.remove(tmp)
