require "minitest/autorun"
require "rack/test"
require "sidekiq/testing"
require_relative "../app"

class SignupTest < Minitest::Test
  include Rack::Test::Methods

  def app = App

  def setup = Sidekiq::Worker.clear_all

  def test_signup_enqueues_the_welcome_email
    post "/signup", email: "ada@example.com"

    assert_equal 202, last_response.status
    assert_equal [["ada@example.com"]], WelcomeEmailJob.jobs.map { |job| job["args"] }
  end
end
