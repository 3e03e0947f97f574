# SPDX-License-Identifier: MIT
# ruby-threads.rb [--kthreads FILE] SECTION...: Ruby's own thread classes,
# several threads waiting on each at once.  Sections: queue (two threads
# in Queue#pop, then two pushes; three consumers of 1,000 items; close),
# sized_queue (three threads blocked in SizedQueue#push, then pops; four
# producers and two consumers through a queue of 3), mutex_cv (four
# threads in ConditionVariable#wait, woken by signal one at a time, then
# four more by broadcast; a counter under contention), join (Thread#join
# with a timeout returns nil while the thread waits, then the thread
# once it ends; Thread#value), tcp (a TCPServer on 127.0.0.1 with a
# thread per connection, 100 client threads exchanging 5 lines each).
# Ordering comes from handshakes (num_waiting, queues), never sleeps.
# With --kthreads FILE, appends "LABEL N" lines to FILE, N being Threads:
# in /proc/self/status at points where many threads are alive and
# blocked.  Prints deterministic lines; exits 0 only when every check
# passed.
require 'socket'

$failures = 0
def check(ok, what)
  return if ok
  warn "ruby-threads.rb:#{caller_locations(1, 1)[0].lineno}: #{what}"
  $failures += 1
end

$kthreads = nil
def sample(label)
  return unless $kthreads
  n = File.read('/proc/self/status')[/^Threads:\s+(\d+)/, 1]
  File.open($kthreads, 'a') { |f| f.puts "#{label} #{n}" }
end

# wait_until { cond }: let other threads run until cond holds.
def wait_until
  Thread.pass until yield
end

def section_queue
  q = Queue.new
  got = Queue.new
  waiters = 2.times.map { |i| Thread.new { got << [i, q.pop] } }
  wait_until { q.num_waiting == 2 }
  sample 'queue-2-waiting'
  q << :a
  q << :b
  waiters.each(&:join)
  items = 2.times.map { got.pop }
  check items.map(&:last).sort == %i[a b], "pops got #{items.inspect}"
  puts "queue: 2 waiters in pop, 2 pushes, they got #{items.map(&:last).sort.join(',')}"

  work = Queue.new
  sums = Queue.new
  consumers = 3.times.map do
    Thread.new do
      s = 0
      n = 0
      while (x = work.pop)
        s += x
        n += 1
      end
      sums << [n, s]
    end
  end
  wait_until { work.num_waiting == 3 }
  (1..1000).each { |i| work << i }
  work.close
  consumers.each(&:join)
  parts = 3.times.map { sums.pop }
  total = parts.sum(&:last)
  check parts.sum(&:first) == 1000, "consumers took #{parts.inspect}"
  check total == 500_500, "sum #{total}"
  check work.closed? && work.pop.nil?, 'closed queue pop'
  puts "queue: 3 consumers took #{parts.sum(&:first)} items summing to #{total}; " \
       "closed, pop gives #{work.pop.inspect}"
end

def section_sized_queue
  sq = SizedQueue.new(2)
  sq << 0
  sq << 0
  pushers = (1..3).map { |i| Thread.new { sq.push(i) } }
  wait_until { sq.num_waiting == 3 }
  sample 'sized-3-waiting'
  check sq.size == 2, "size #{sq.size}"
  got = []
  5.times { got << sq.pop }
  pushers.each(&:join)
  check got.sort == [0, 0, 1, 2, 3], "got #{got.inspect}"
  puts "sized_queue: 3 pushers blocked on a full queue of 2; 5 pops got #{got.sort.join(',')}"

  q = SizedQueue.new(3)
  results = Queue.new
  producers = 4.times.map do |p|
    Thread.new { 250.times { |i| q << p * 1000 + i } }
  end
  consumers = 2.times.map do
    Thread.new do
      s = 0
      n = 0
      while (x = q.pop)
        s += x
        n += 1
      end
      results << [n, s]
    end
  end
  producers.each(&:join)
  q.close
  consumers.each(&:join)
  r = 2.times.map { results.pop }
  want = (0...4).sum { |p| (0...250).sum { |i| p * 1000 + i } }
  check r.sum(&:first) == 1000 && r.sum(&:last) == want, "got #{r.inspect}"
  puts "sized_queue: 4 producers, 2 consumers, queue of 3: #{r.sum(&:first)} items, sum #{r.sum(&:last)}"
end

def section_mutex_cv
  m = Mutex.new
  cv = ConditionVariable.new
  waiting = 0
  tokens = 0
  woken = Queue.new
  waiters = 4.times.map do |i|
    Thread.new do
      m.synchronize do
        waiting += 1
        cv.wait(m) while tokens.zero?
        tokens -= 1
        waiting -= 1
      end
      woken << i
    end
  end
  wait_until { m.synchronize { waiting == 4 } }
  sample 'cv-4-waiting'
  order = []
  4.times do |k|
    m.synchronize do
      tokens += 1
      cv.signal
    end
    order << woken.pop
    check m.synchronize { waiting } == 3 - k, "after signal #{k}: #{waiting} waiting"
  end
  waiters.each(&:join)
  check order.sort == [0, 1, 2, 3], "woken #{order.inspect}"
  puts "mutex_cv: 4 waiters, 4 signals woke one each (#{order.size} in all)"

  released = false
  count = 0
  waiters = 4.times.map do
    Thread.new do
      m.synchronize do
        count += 1
        cv.wait(m) until released
        count -= 1
      end
    end
  end
  wait_until { m.synchronize { count == 4 } }
  m.synchronize do
    released = true
    cv.broadcast
  end
  waiters.each(&:join)
  check count.zero?, "count #{count}"
  puts 'mutex_cv: 4 waiters, 1 broadcast woke all 4'

  counter = 0
  8.times.map do
    Thread.new do
      500.times do
        m.synchronize do
          c = counter
          Thread.pass
          counter = c + 1
        end
      end
    end
  end.each(&:join)
  check counter == 4000, "counter #{counter}"
  check !m.locked?, 'mutex still locked'
  puts "mutex_cv: 8 threads x 500 increments under a Mutex with Thread.pass inside: #{counter}"
end

def section_join
  q = Queue.new
  started = Queue.new
  t = Thread.new do
    started << true
    q.pop * 2
  end
  started.pop
  wait_until { q.num_waiting == 1 }
  r1 = t.join(0.05)
  check r1.nil?, "join(0.05) returned #{r1.inspect}"
  check t.alive?, 'thread ended early'
  r0 = t.join(0)
  check r0.nil?, "join(0) returned #{r0.inspect}"
  puts "join: join(0.05) on a waiting thread gave #{r1.inspect}, join(0) #{r0.inspect}, " \
       "status #{t.status}"
  q << 21
  r2 = t.join(30)
  check r2.equal?(t), "join(30) returned #{r2.inspect}"
  puts "join: after the push, join(30) gave the thread: #{r2.equal?(t)}; " \
       "value #{t.value}, status #{t.status.inspect}"
  e = Thread.new do
    Thread.current.report_on_exception = false
    raise ArgumentError, 'boom'
  end
  begin
    e.join
    puts 'join: no exception'
  rescue ArgumentError => ex
    puts "join: the thread's exception came through join: #{ex.class}: #{ex.message}"
  end
end

def section_tcp
  clients = 100
  server = TCPServer.new('127.0.0.1', 0)
  port = server.addr[1]
  handlers = Queue.new
  acceptor = Thread.new do
    clients.times do
      s = server.accept
      handlers << Thread.new(s) do |c|
        n = 0
        while (line = c.gets)
          c.write(line)
          n += 1
        end
        c.close
        n
      end
    end
  end
  m = Mutex.new
  mid = 0
  go = Queue.new
  results = Array.new(clients)
  threads = (0...clients).map do |i|
    Thread.new do
      s = TCPSocket.new('127.0.0.1', port)
      ok = 0
      5.times do |k|
        msg = "client #{i} line #{k}\n"
        s.write(msg)
        ok += 1 if s.gets == msg
        if k.zero?
          m.synchronize { mid += 1 }
          go.pop
        end
      end
      s.close
      results[i] = ok
    end
  end
  wait_until { m.synchronize { mid == clients } }
  sample 'tcp-mid-exchange'
  clients.times { go << true }
  threads.each(&:join)
  acceptor.join
  lines = clients.times.map { handlers.pop.value }
  server.close
  check results.all? { |r| r == 5 }, "echoes #{results.inspect}"
  check lines.sum == clients * 5, "handlers saw #{lines.sum}"
  puts "tcp: #{clients} clients, #{results.sum} lines echoed right, " \
       "handler threads read #{lines.sum} lines"
end

if ARGV[0] == '--kthreads'
  ARGV.shift
  $kthreads = ARGV.shift
end
abort 'usage: ruby-threads.rb [--kthreads FILE] SECTION...' if ARGV.empty?
ARGV.each { |s| send("section_#{s}") }
puts "threads alive at the end: #{Thread.list.size}"
exit($failures.zero? ? 0 : 1)
