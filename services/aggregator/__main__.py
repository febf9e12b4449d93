"""`python -m services.aggregator`: run one aggregator worker."""

from services.aggregator.worker import main

if __name__ == "__main__":
    main()
