# METADATA
# title: Cloudflare
# description: The Cloudflare API v4 (api.cloudflare.com/client/v4), including D1 SQL.
package airlock.services.cloudflare

import rego.v1

owns_host if input.request.host == "api.cloudflare.com"

secret := object.get(data.airlock.config, ["services", "cloudflare", "secret"], "cloudflare_api_token")

credentials contains {"secret": secret, "in": "header", "name": "Authorization", "format": "Bearer {}"}
