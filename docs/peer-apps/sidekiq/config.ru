require "securerandom"
require "sidekiq/web"
require_relative "app"

admin_password = ENV.fetch("ADMIN_PASSWORD")
# Sidekiq::Web keeps its CSRF token in the session.
use Rack::Session::Cookie, secret: ENV.fetch("SESSION_SECRET") { SecureRandom.hex(32) },
                           same_site: true, max_age: 86_400

map "/admin/jobs" do
  use Rack::Auth::Basic, "jobs" do |_user, password|
    Rack::Utils.secure_compare(password, admin_password)
  end
  run Sidekiq::Web
end

run App
