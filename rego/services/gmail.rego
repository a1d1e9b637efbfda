# METADATA
# title: Gmail
# description: The Gmail API. www.googleapis.com is shared by many Google APIs, so it is Gmail's only for /gmail/ paths.
package airlock.services.gmail

import rego.v1

owns_host if input.request.host == "gmail.googleapis.com"

owns_host if {
	input.request.host == "www.googleapis.com"
	input.service.name == "gmail"
}

secret := object.get(data.airlock.config, ["services", "gmail", "secret"], "gmail_token")

credentials contains {"secret": secret, "in": "header", "name": "Authorization", "format": "Bearer {}"}
