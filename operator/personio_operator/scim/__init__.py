"""SCIM 2.0 target: users and groups in any application that accepts SCIM provisioning."""
