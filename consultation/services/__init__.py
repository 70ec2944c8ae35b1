"""Business rules: functions that change state, record the audit trail and request jobs.

Views and jobs call these; they flush but leave the commit to the caller (one request, one
transaction), except where a step must be durable before anything else happens.
"""
