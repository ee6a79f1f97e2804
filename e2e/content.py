"""Data for the blocks, variables and artifacts pages, made by the real Prefect client (e2e/content.test.mjs).

Prints one JSON line: the ids the browser test looks for. Artifacts include hostile markdown and table cells
(script tags, event handlers, javascript: links) that the UI must show as text and never run.
"""

import json

from prefect import flow, task
from prefect.artifacts import (
    create_image_artifact, create_link_artifact, create_markdown_artifact, create_progress_artifact,
    create_table_artifact, update_progress_artifact,
)
from prefect.blocks.system import Secret
from prefect.runtime import flow_run, task_run
from prefect.variables import Variable
from prefect_aws import AwsCredentials
from prefect_aws.s3 import S3Bucket

HOSTILE_MD = """# Quarterly report

Revenue is **up**, see [the data](https://example.com/data.csv).

<script>window.__xss = 'script'</script>
<img src=x onerror="window.__xss='img'">
[click me](javascript:window.__xss='link')
"""


@task
def tabulate():
    create_table_artifact(
        key="e2e-table",
        table=[{"region": "eu", "sales": 120}, {"region": "<img src=x onerror=\"window.__xss='cell'\">", "sales": 80}],
        description="Sales by region",
    )
    return str(task_run.id)


@flow(name="e2e-artifacts")
def publish():
    create_markdown_artifact(key="e2e-report", markdown="# Quarterly report\n\nFirst draft.", description="draft")
    create_markdown_artifact(key="e2e-report", markdown=HOSTILE_MD, description="final")
    task_run_id = tabulate()
    create_link_artifact(key="e2e-link", link="https://example.com/dashboard", link_text="the dashboard")
    pid = create_progress_artifact(progress=10.0, key="e2e-progress", description="loading")
    update_progress_artifact(artifact_id=pid, progress=60.0)
    create_image_artifact(image_url="https://example.com/chart.png", key="e2e-image")
    return {"flow_run_id": str(flow_run.id), "task_run_id": task_run_id}


if __name__ == "__main__":
    Secret(value="e2e-secret-value-XYZ").save("e2e-secret", overwrite=True)
    creds = AwsCredentials(aws_access_key_id="AKIAE2E", aws_secret_access_key="e2e-aws-secret-XYZ")
    creds.save("e2e-creds", overwrite=True)
    S3Bucket(bucket_name="e2e-bucket", credentials=AwsCredentials.load("e2e-creds")).save("e2e-bucket", overwrite=True)
    Variable.set("e2e_region", {"name": "eu-west-1", "zones": 3}, tags=["infra"], overwrite=True)
    Variable.set("e2e_threshold", 0.75, overwrite=True)
    print(json.dumps(publish()))
