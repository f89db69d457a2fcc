@k8s @atlas @deployment @slow @req.INT-K8S
Feature: The ATLAS server on Kubernetes
  docker/k8s deploys two replicas behind a Service, with health probes and persistent volumes
  for the models and the memory. On the cluster that KUBECONFIG names, the rollout completes,
  both replicas serve through the Service, and the Deployment replaces a pod that is lost.

  Background:
    Given the ATLAS server is deployed on the Kubernetes cluster

  Scenario: The rollout completes with both replicas ready behind the Service
    When I ask for the server status
    Then the deployment has 2 ready replicas
    And the Service routes to 2 ready pods
    And the status shows ATLAS enabled with a memory fingerprint

  Scenario: A completion with ATLAS enabled reaches the server through the Service
    When I send a text completion with the ATLAS extension enabled
    Then the answer is an OpenAI completion with an atlas block

  Scenario: A deleted pod is replaced and the Service keeps answering
    When one of the server's pods is deleted
    Then within 300 seconds 2 pods are ready again, none of them the deleted one
    And the deployment has 2 ready replicas
    And the server answers through the Service again

  Scenario: A rolling restart replaces every pod and the Service keeps answering
    When the deployment is restarted with a rolling update
    Then within 600 seconds 2 pods are ready again, all of them new
    And the deployment has 2 ready replicas
    And the server answers through the Service again
