"""Files written whole: a temporary beside its target, and the read-only test.

The campaign's files and a run's results are both written to a temporary file in
the target's folder and then put in place with ``os.replace``; these are the two
steps they share.
"""

import errno
import os
import secrets
import stat

__all__ = ["is_read_only", "new_temporary"]


def is_read_only(path):
    """Whether ``path`` exists and was made read-only (``chmod a-w``).

    ``os.replace`` would replace such a file all the same; its owner said "do not
    write here". The mode bits decide, so root, who may write anything, is told
    no too; a missing file is not read-only.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    writable = mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    return not writable or not os.access(path, os.W_OK)


def new_temporary(path, mark):
    """Create an empty ``.NAME{mark}XXXXXXXX`` beside ``path``; return its path.

    With the permissions of any new file (0o666 less the umask), not mkstemp's
    owner-only ones, which the file put in place would keep.
    """
    folder, name = os.path.split(os.fspath(path))
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}{mark}{secrets.token_hex(4)}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except FileNotFoundError:
            if os.path.isdir(folder or os.curdir):
                raise
            # Named after the file asked for: the temporary's name means nothing to its writer.
            raise FileNotFoundError(
                errno.ENOENT,
                f"There is no folder {folder!r} to write into; create it first",
                os.fspath(path),
            ) from None
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary file name", path)
