"""`python -m services.market`: run the simulated day-ahead exchange adapter."""

from services.market.service import main

if __name__ == "__main__":
    main()
