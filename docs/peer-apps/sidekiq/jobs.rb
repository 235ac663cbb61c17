require "sidekiq"
require "sidekiq-cron"
require "sidekiq-status"

# Sidekiq runs jobs in its own process: `bundle exec sidekiq -r ./jobs.rb`
# (see Procfile). On SIGTERM it stops fetching, lets running jobs finish for
# up to 25 s and pushes the rest back to Redis.
Sidekiq.configure_client do |config|
  Sidekiq::Status.configure_client_middleware config, expiration: 86_400
end

Sidekiq.configure_server do |config|
  Sidekiq::Status.configure_server_middleware config, expiration: 86_400
  Sidekiq::Status.configure_client_middleware config, expiration: 86_400
  Sidekiq::Cron::Job.load_from_hash("cleanup" => { "cron" => "* * * * *", "class" => "CleanupJob" })
  # A retried job and a dead one, for the dashboard.
  config.on(:startup) do
    FlakyJob.perform_async
    AlwaysFailsJob.perform_async
  end
end

class WelcomeEmailJob
  include Sidekiq::Job

  def perform(email)
    logger.info "sending welcome e-mail to #{email}"
  end
end

class SignupReminderJob
  include Sidekiq::Job

  def perform(email)
    logger.info "reminding #{email} to finish their profile"
  end
end

class ReportJob
  include Sidekiq::Job
  include Sidekiq::Status::Worker

  def perform(kind)
    total 10
    10.times do |step|
      sleep 0.5
      at step + 1
    end
    store kind: kind, rows: 1234, url: "/files/report-#{jid}.csv"
  end
end

class CleanupJob
  include Sidekiq::Job

  def perform
    logger.info "cleaning up expired sessions"
  end
end

class FlakyJob
  include Sidekiq::Job

  def perform
    attempt = Sidekiq.redis { |redis| redis.incr("flaky:#{jid}") }
    raise "flaky failure on attempt #{attempt}" if attempt < 3
  end
end

class AlwaysFailsJob
  include Sidekiq::Job
  sidekiq_options retry: 2

  def perform
    raise "this job always fails"
  end
end
