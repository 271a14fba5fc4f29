"""python -m scheduler: run the scheduled jobs until stopped (one process per deployment)."""

import logging

from incidents import create_app
from scheduler import build_scheduler


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    scheduler = build_scheduler(create_app())
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


if __name__ == "__main__":
    main()
