"""The one exception type for user mistakes: bad files, devices, settings."""


class StreamdlError(Exception):
    """A user-facing error; its message is one line that says what to do.

    The CLI prints it as ``streamdl: error: <message>`` and exits with status 2, without a
    traceback. Library code raises it for anything the caller can fix (a missing file, an
    unknown device, an unsupported rate); programming errors stay ordinary exceptions.
    """
