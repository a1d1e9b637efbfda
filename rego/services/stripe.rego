# METADATA
# title: Stripe
# description: api.stripe.com and files.stripe.com; money-moving operations are `pay` (critical).
package airlock.services.stripe

import rego.v1

owns_host if input.request.host in {"api.stripe.com", "files.stripe.com"}

secret := object.get(data.airlock.config, ["services", "stripe", "secret"], "stripe_key")

credentials contains {"secret": secret, "in": "header", "name": "Authorization", "format": "Bearer {}"}
