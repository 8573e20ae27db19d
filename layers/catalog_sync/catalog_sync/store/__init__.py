"""DynamoDB and SQS access: the only place that knows table layouts and message formats."""
