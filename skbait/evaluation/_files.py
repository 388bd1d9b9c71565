"""Writing the files of a run whole: through temporaries, put in place together.

``save_results`` and ``write_report`` write each file to a temporary one in the
same folder and replace the files only once all of them are written: a full
disk, a folder that refuses new files or an interrupt midway leaves every
earlier file as it was and no temporary file behind.
"""

import contextlib
import errno
import os
import stat

from skbait.utils._files import is_read_only, new_temporary

__all__ = ["staged_files"]


def _refuse_read_only(path):
    """``chmod a-w`` says "do not write here"; a replace would not ask (nor would root)."""
    if is_read_only(path):
        raise PermissionError(
            errno.EACCES, "the file is read-only (chmod u+w to allow writing it)", path
        )


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
        tmp = new_temporary(path, ".tmp-")
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
