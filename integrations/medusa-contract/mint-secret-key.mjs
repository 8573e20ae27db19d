// Prints a new secret API key of the Medusa at MEDUSA_URL: admin login (POST /auth/user/emailpass -> JWT),
// then POST /admin/api-keys {type: "secret"} -> the key's token (sk_...), used as Basic base64("sk_...:").
const base = process.env.MEDUSA_URL
const post = async (path, body, token) => {
  const headers = { "Content-Type": "application/json" }
  if (token) headers.Authorization = `Bearer ${token}`
  const resp = await fetch(base + path, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await resp.text()
  if (!resp.ok) throw new Error(`POST ${path} -> ${resp.status}: ${text.slice(0, 300)}`)
  return JSON.parse(text)
}

try {
  const { token } = await post("/auth/user/emailpass", {
    email: process.env.ADMIN_EMAIL,
    password: process.env.ADMIN_PASSWORD,
  })
  const { api_key } = await post("/admin/api-keys", { title: "catalog-sync contract", type: "secret" }, token)
  process.stdout.write(api_key.token)
} catch (err) {
  console.error(String(err))
  process.exit(1)
}
