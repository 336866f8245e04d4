# Jobs for the Sidekiq end-to-end test and bench/frameworks.py. The Sidekiq
# process loads this file (`sidekiq -r ./sidekiq_jobs.rb`) with
# SIDEKIQ_TEST_URL naming the server; sidekiq_push.rb loads it to enqueue.
require "sidekiq"

Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
URL = ENV.fetch("SIDEKIQ_TEST_URL", "redis://127.0.0.1:6379/0")

Sidekiq.configure_client { |config| config.redis = { url: URL } }
Sidekiq.configure_server do |config|
  config.redis = { url: URL }
  # Poll the schedule and retry sets every second on average instead of
  # every 5 s (the first poll comes 0-5 s after start instead of 10-15 s).
  config.options[:poll_interval_average] = 1
end

# Does nothing: the bench measures the framework and the server.
class NoopJob
  include Sidekiq::Job

  def perform(_n); end
end

# Leaves its sum in the list "results".
class AddJob
  include Sidekiq::Job

  def perform(a, b)
    Sidekiq.redis { |conn| conn.rpush("results", (a + b).to_s) }
  end
end

# Fails until it has run `failures` times, then leaves "flaky:<attempt>" in
# "results". Sidekiq retries failed jobs through the "retry" sorted set.
class FlakyJob
  include Sidekiq::Job
  sidekiq_options retry: 3
  sidekiq_retry_in { |_count, _exception| 1 }

  def perform(key, failures)
    attempt = Sidekiq.redis { |conn| conn.incr(key) }
    raise "failure #{attempt}" if attempt <= failures

    Sidekiq.redis { |conn| conn.rpush("results", "flaky:#{attempt}") }
  end
end
