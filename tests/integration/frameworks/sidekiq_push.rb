# Pushes N NoopJobs one by one (as an application enqueues them) and prints
# the seconds it took. Usage: SIDEKIQ_TEST_URL=... ruby sidekiq_push.rb N
require_relative "sidekiq_jobs"

count = Integer(ARGV.fetch(0))
started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
count.times { |i| NoopJob.perform_async(i) }
puts Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
