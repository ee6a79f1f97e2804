# The seed's basic_flow.py, unchanged: workload 1 runs it as its own process, N times in a row.
from prefect import flow, get_run_logger

@flow(name="Testing")
def basic_flow():
    logger = get_run_logger()
    logger.warning("The fun is about to begin")

if __name__ == "__main__":
    basic_flow()
