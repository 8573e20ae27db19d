"""catalog-sync domain: models, connectors, the sync engine and the DynamoDB stores."""
