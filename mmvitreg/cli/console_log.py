"""Keep mmengine's long start-up listings out of the console.

mmengine's ``Runner`` logs, at INFO and before any metric, the system
environment, the whole config and the hook order: about 500 lines on the
console for a demo ``tools/test.py``. They stay useful in the run's log
file (``<work_dir>/<timestamp>/<timestamp>.log``, written once there by the
file handler); :func:`quiet_console_listings` drops them from the logger's
console handlers only, by the first line of the message, so metrics,
warnings and errors are printed as before.
"""
import logging

#: How each listing's message starts (mmengine 0.10.7's ``Runner`` and
#: ``FlexibleRunner``).
LISTING_STARTS = ('System environment:', 'Config:\n',
                  'Hooks will be executed in the following order')


class ListingFilter(logging.Filter):
    """Refuses the records of :data:`LISTING_STARTS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage().lstrip('\n-')
        return not message.startswith(LISTING_STARTS)


def quiet_console_listings(logger: logging.Logger) -> None:
    """Add :class:`ListingFilter` to ``logger``'s console (not file)
    handlers; idempotent."""
    for handler in logger.handlers:
        if (isinstance(handler, logging.StreamHandler)
                and not isinstance(handler, logging.FileHandler)
                and not any(isinstance(f, ListingFilter)
                            for f in handler.filters)):
            handler.addFilter(ListingFilter())
