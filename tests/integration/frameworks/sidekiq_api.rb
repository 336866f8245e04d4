# Drives Sidekiq's API (what its Web UI and sidekiqmon read and do) with no
# Sidekiq process running, and prints one "label: value" line per step.
# test_sidekiq.py checks the lines; redis-server 7.0 prints the same ones.
require_relative "sidekiq_jobs"
require "sidekiq/api"

def show(label)
  puts "#{label}: #{yield.inspect}"
rescue StandardError => e
  puts "#{label}: ERROR #{e.class}: #{e.message}"
end

Sidekiq.redis(&:flushdb)
10.times { |i| AddJob.perform_async(i, i) }
3.times { |i| AddJob.set(queue: "other").perform_async(i, 1) }
AddJob.perform_in(3600, 1, 2)
AddJob.perform_in(7200, 1, 3)
Sidekiq::Client.push_bulk("class" => AddJob, "args" => [[1, 1], [2, 2]])

show("stats") do
  s = Sidekiq::Stats.new
  [s.processed, s.failed, s.enqueued, s.scheduled_size, s.retry_size, s.dead_size, s.processes_size, s.queues]
end
show("history") { Sidekiq::Stats::History.new(3).processed.size }
show("queues") { Sidekiq::Queue.all.map { |q| [q.name, q.size, q.paused?] } }
show("queue jobs") { Sidekiq::Queue.new.map(&:args).size }
show("latency positive") { Sidekiq::Queue.new.latency.positive? }
show("find_job") { Sidekiq::Queue.new.find_job(Sidekiq::Queue.new.first.jid).args }
show("delete") { Sidekiq::Queue.new.first.delete }
show("scheduled") { Sidekiq::ScheduledSet.new.map(&:args) }
show("scheduled scan") { Sidekiq::ScheduledSet.new.scan("AddJob").map(&:args).size }
show("scheduled find") { set = Sidekiq::ScheduledSet.new; set.find_job(set.first.jid).args }
show("reschedule") { set = Sidekiq::ScheduledSet.new; set.first.reschedule(Time.now.to_f + 10); set.size }
show("add_to_queue") { set = Sidekiq::ScheduledSet.new; set.first.add_to_queue; set.size }
show("kill") { Sidekiq::ScheduledSet.new.first.kill; Sidekiq::DeadSet.new.size }
show("retry dead") { Sidekiq::DeadSet.new.retry_all; Sidekiq::DeadSet.new.size }
show("retries") { Sidekiq::RetrySet.new.size }
show("clear") { Sidekiq::Queue.new("other").clear }
show("processes") { Sidekiq::ProcessSet.new.size }
show("workers") { Sidekiq::Workers.new.size }
show("redis_info") do
  info = Sidekiq.redis_info
  %w[redis_version uptime_in_days connected_clients used_memory_human used_memory_peak_human].map { |k| info.key?(k) }
end
show("reset") { Sidekiq::Stats.new.reset; Sidekiq::Stats.new.processed }
show("enqueued") { Sidekiq::Stats.new.enqueued }
