# METADATA
# title: Neon
# description: SQL over HTTP ({endpoint}.neon.tech/sql) and the console API (console.neon.tech).
package airlock.services.neon

import rego.v1

owns_host if endswith(input.request.host, ".neon.tech")

conf := object.get(data.airlock.config, ["services", "neon"], {})

# The serverless driver authenticates SQL with the whole connection string in a header.
credentials contains {"secret": object.get(conf, "secret", "neon_connection_string"), "in": "header", "name": "Neon-Connection-String", "format": "{}"} if {
	input.service.operation == "sql.query"
}

credentials contains {"secret": object.get(conf, "api_secret", "neon_api_key"), "in": "header", "name": "Authorization", "format": "Bearer {}"} if {
	input.request.host == "console.neon.tech"
}
