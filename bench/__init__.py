"""`make bench`: each module `bench/<section>.py` measures figures against a baseline in the same run."""

from typing import Any


def default_session() -> Any:
    """boto3's default session (the one `boto3.client` uses), set up if nothing has yet: its event
    hooks see every AWS call the handlers make in this process."""
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return boto3.DEFAULT_SESSION


def create_state_table(client: Any, name: str) -> None:
    """The sync state table as template.yaml declares it (keys pk/sk), on whatever DynamoDB `client`
    talks to (moto in the benchmarks)."""
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
