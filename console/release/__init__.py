"""Release services: the policy, promotion requests, quorum, gates, evidence, deployments."""
